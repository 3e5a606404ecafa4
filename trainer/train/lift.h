// Recommendation lift: does a SELLER run's explanation, used as one more ranking feature, change
// the behaviour path's recommendation? Design (docs/eval.md, "Recommendation lift"):
//   1. per valid/test pair (data/explain_examples.h: one per user), SASRec's top-k over all items
//      from the user's history (the model's own sasrec, real history);
//   2. an explanation for every candidate (seller_explain.h explain(), the pair's history, the
//      candidate as the item);
//   3. feature = cosine between the candidate's explanation and the user's profile: the mean of
//      the embedder rows of the user's own reviews written before the target (every earlier
//      interaction, not only the history window);
//   4. final score = z(SASRec score) + w · z(feature), z-scored over the user's k candidates
//      (a constant vector z-scores to 0); w from a grid, chosen by mean NDCG@10 on the VALID
//      pairs (ties: the smallest w), never on test;
//   5. on test: NDCG@10 and HR@10 of the reranked top-k; a target outside the top-k is a miss
//      whatever w is (top-k recall is reported).
// Conditions: "explanation"; "shuffled" (every candidate gets the explanation written for the
// same slot of another user's list, a seeded derangement of users, w re-chosen on valid with the
// same procedure) and "no_text" (w = 0, which is the plain SASRec ranking). Invariants: ranks are
// pessimistic (rank = 1 + #{other candidates scoring >= the target}); everything is seeded.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "eval/ranking/ranking_metrics.h"
#include "eval/utility/text_embedding.h"
#include "eval/utility/utility_report.h"
#include "trainer/core/config.h"
#include "trainer/data/dataset.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/train/seller_run.h"

namespace seller::train {

// One ranking query: the top-k candidates with their SASRec scores and text feature.
struct LiftQuery {
  std::vector<uint32_t> candidates;  // item ids, SASRec's order (best first)
  std::vector<double> base;          // SASRec scores
  std::vector<double> feature;       // explanation-profile cosines
  uint32_t target = 0;
};

// (x - mean) / population std over the vector; all zeros when the std is 0.
std::vector<double> zscore(std::span<const double> x);

// The pessimistic 1-based rank of the target among the candidates under
// z(base) + w · z(feature); 0 when the target is not a candidate (a miss).
uint64_t rerank_rank(const LiftQuery& q, double w);

// Mean NDCG@10 of the queries at weight w (a miss counts 0).
double mean_ndcg10(const std::vector<LiftQuery>& queries, double w);

// The grid's weight with the best mean NDCG@10 on `valid` (the first, i.e. smallest listed, on
// ties); curve (optional) receives (w, NDCG@10) for every grid point.
double choose_weight(const std::vector<LiftQuery>& valid, const std::vector<double>& grid,
                     std::vector<std::pair<double, double>>* curve = nullptr);

struct LiftOptions {
  int64_t k = 20;
  int64_t limit = 0;  // > 0: only the first N valid and the first N test pairs
  std::vector<double> grid = {0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5};
  uint64_t seed = 0;  // the shuffled control's derangement
  int64_t batch_size = 256;
};

struct LiftSplit {
  std::vector<LiftQuery> real, shuffled;
  eval::RankingAccumulator full;         // plain SASRec full ranking of the same pairs
  std::vector<std::string> example_ids;  // "<user>:<item>" per pair
  std::vector<std::vector<std::string>> explanations;  // [pair][slot]
  double topk_recall() const;
};

struct LiftResult {
  std::string embedder;  // "tfidf" or the encoder's name
  int64_t k = 0;
  LiftSplit valid, test;
  double weight = 0, weight_shuffled = 0;                        // chosen on valid
  std::vector<std::pair<double, double>> curve, curve_shuffled;  // valid NDCG@10 per w
  eval::UtilityBlock block;  // test: explanation, shuffled, no_text x NDCG@10, HR@10
};

// Builds the queries of one split (candidates, SASRec scores, explanations, features); tag:
// the split of the examples' targets (kValid or kTest), which locates each target in the
// user's interactions for the profile.
LiftSplit build_lift_split(SellerRun& run, const core::Config& cfg, const data::Dataset& ds,
                           const std::vector<data::ExplainExample>& examples, data::SplitTag tag,
                           const eval::TextEmbedder& embedder, const LiftOptions& options,
                           torch::Device device, std::ostream* log);

// The whole protocol on a loaded run (steps 1-5 for valid and test, then the block).
LiftResult run_lift(
    SellerRun& run, const core::Config& cfg, const data::Dataset& ds,
    const std::function<eval::TextEmbedder(const std::vector<std::string>&)>& make_embedder,
    const LiftOptions& options, torch::Device device, std::ostream* log);

// The block's per-pair values from queries: [NDCG@10, HR@10] at weight w.
std::vector<std::vector<double>> lift_values(const std::vector<LiftQuery>& queries, double w);

}  // namespace seller::train
