// The (user, history, item, explanation) examples of the SELLER model, read from a prepared
// dataset. Torch-free: the model code turns them into tensors.
//
// Rules (the same sequence rules as the behaviour path, trainer/train/sasrec_trainer.h):
// - train: every train-tagged interaction with a non-empty review and at least one earlier
//   interaction; its history is the interactions before it (train-tagged ones only, since
//   everything before a train interaction is train in both split modes), cut to the most recent
//   max_history; optionally a seeded subsample of max_train of them (order kept).
// - valid / test: the user's first valid- / test-tagged interaction with a non-empty review; its
//   history is every interaction before it (so the test history includes the valid item).
// - id = "<user id>:<item id>" with the dataset's original ids; unique within valid and within
//   test (one pair per user).
// The explanation is the review text as stored (models cut it to their token budget).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/data/dataset.h"

namespace seller::data {

struct ExplainExample {
  uint32_t user = 0;
  uint32_t item = 0;              // the candidate: the item the user actually chose next
  std::vector<uint32_t> history;  // dataset item ids, oldest first, at most max_history
  std::string explanation;        // the user's review of `item`
  float rating = 0;               // NaN when the record had none
  std::string feature;            // the record's aspect, empty when none
  std::string id;                 // "<user id>:<item id>"
};

struct ExplainSplits {
  std::vector<ExplainExample> train, valid, test;
};

ExplainSplits build_explain_examples(const Dataset& ds, size_t max_history, size_t max_train = 0,
                                     uint64_t seed = 0);

}  // namespace seller::data
