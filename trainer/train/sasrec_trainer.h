// Training and full-ranking evaluation of SASRec on a prepared dataset (the behaviour path).
//
// Sequences (items are dataset item ids; the model adds the +1 padding shift):
// - training: per user, the train-tagged interactions in chronological order; inputs are all
//   but the last, targets the next item at every position; only the last max_len + 1 items are
//   used (as SASRec). Users with fewer than 2 train interactions give no training sequence.
// - evaluation: the valid target is the user's first valid-tagged interaction, the test target
//   the first test-tagged one; the history is EVERY interaction before the target (so the test
//   history includes the valid item), cut to the last max_len.
// Ranking: full ranking over all items, nothing excluded, ties pessimistic (eval/ranking).
// Controls reported with the test metrics: the same model on each user's history window in a
// seeded random order (shuffled-history control: how much the model uses order), and a
// popularity ranker (train-split counts).
// Metrics go to <run_dir>/metrics.jsonl (appended, one JSON object per line).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <vector>

#include "eval/ranking/ranking_metrics.h"
#include "trainer/core/config.h"
#include "trainer/data/dataset.h"
#include "trainer/model/seq/sasrec.h"

namespace seller::train {

struct EvalQuery {
  uint32_t user = 0;
  std::vector<uint32_t> history;  // dataset item ids, oldest first, at most max_len
  uint32_t target = 0;
};

struct SasrecData {
  uint32_t num_items = 0;
  std::vector<std::vector<uint32_t>> train;  // per sequence: items, oldest first (<= max_len + 1)
  std::vector<EvalQuery> valid, test;
  std::vector<float> popularity;  // per item: train-split interaction count
};

SasrecData build_sasrec_data(const data::Dataset& ds, int64_t max_len);

// Left-padded tokens [B, T] (item + 1; 0 = padding) with T the longest sequence given.
torch::Tensor pad_left(const std::vector<const std::vector<uint32_t>*>& sequences);

// Full-ranking metrics of the model on the queries (eval mode, no grad). shuffle_seed >= 0
// shuffles each history window first (the shuffled-history control).
eval::RankingSummary evaluate_sasrec(model::Sasrec& model, const std::vector<EvalQuery>& queries,
                                     torch::Device device, int64_t shuffle_seed = -1,
                                     int64_t batch_size = 512);
eval::RankingSummary evaluate_popularity(const std::vector<float>& popularity,
                                         const std::vector<EvalQuery>& queries);

struct SasrecTrainResult {
  eval::RankingSummary best_valid, test, test_shuffled, test_popularity;
  int64_t best_epoch = 0;  // 1-based epoch of the best validation NDCG@10 (0: none)
  int64_t epochs_run = 0;
  bool stopped_early = false;
  std::vector<double> epoch_loss;  // mean training loss per epoch
  uint64_t train_sequences = 0;
  double seconds = 0;  // wall time of the whole run
  std::string device;
};

// Trains with AdamW (optional warmup + cosine, gradient clipping), validates every
// train.eval_every epochs, stops after train.patience validations without a better NDCG@10,
// restores the best weights and evaluates test. run_dir empty: no log file. progress: one line
// per validation and the final summary (nullptr: silent).
SasrecTrainResult train_sasrec(const data::Dataset& ds, const core::SasrecConfig& model_config,
                               const core::TrainConfig& train_config,
                               const std::filesystem::path& run_dir, std::ostream* progress,
                               model::Sasrec* trained = nullptr);

torch::Device resolve_device(const std::string& name);

}  // namespace seller::train
