// Runs the utility metrics of `seller eval` on joined pairs: identification (needs every pair's
// item and the items' texts) and rating consistency (needs every pair's real rating and training
// reviews with ratings), each for the system(s) and the controls, summarised with bootstrap
// intervals and paired tests (utility_report.h). Plain data in, no dataset type: the command
// turns a prepared dataset into UtilityData, so eval/ stays independent of trainer/data.
// Invariants: a block that the inputs do not allow is skipped with its reason (never guessed);
// a pair whose item is unknown to the dataset, or pairs carrying an item/rating only partly, are
// errors naming the record's file:line and id.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "eval/utility/identification.h"
#include "eval/utility/rating_model.h"
#include "eval/utility/utility_records.h"
#include "eval/utility/utility_report.h"

namespace seller::eval {

struct UtilityData {
  std::string source;                      // the dataset folder, for messages
  std::vector<std::string> train_reviews;  // training split
  std::vector<double> train_ratings;       // aligned with train_reviews; NaN = no rating
  std::vector<std::string> item_texts;     // dense item id -> text (metadata + train reviews)
  std::unordered_map<std::string, uint32_t> item_index;  // original item id -> dense id
  // The dataset's rating of (original user id, original item id), if any.
  std::function<std::optional<double>(const std::string&, const std::string&)> rating_of;
};

struct UtilityOptions {
  IdentificationOptions identification;
  RatingModelOptions rating;
  BootstrapOptions bootstrap;
  uint64_t shuffle_seed = 0;
  // Builds the embedder for identification from the item texts; default: make_tfidf_embedder.
  std::function<TextEmbedder(const std::vector<std::string>&)> make_embedder;
};

struct UtilitySystem {
  std::string name;  // "prediction", or "A"/"B" under --compare
  const std::vector<std::string>* texts = nullptr;
  std::filesystem::path file;  // for "user"/"item"/"rating" fallbacks and messages
};

struct UtilityRun {
  std::vector<std::unique_ptr<UtilityBlock>> blocks;
  std::vector<UtilitySummary> summaries;
  std::vector<std::pair<std::string, std::string>> skipped;  // block -> why
};

// ids/refs: the joined pairs (reference-file order); systems: one, or two for --compare.
UtilityRun run_utility(const std::vector<std::string>& ids, const std::vector<std::string>& refs,
                       const std::filesystem::path& ref_file,
                       const std::vector<UtilitySystem>& systems, const UtilityData* data,
                       const UtilityOptions& options);

}  // namespace seller::eval
