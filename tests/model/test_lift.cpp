// The recommendation lift (trainer/train/lift.h): the reranking math on hand-made queries with
// the arithmetic in comments, then the whole protocol on a tiny SELLER run trained in the test
// through the C++ API (synthetic data from the `seller` binary): shapes and counts, w = 0 equal
// to SASRec's own full ranking pair by pair, the weight chosen from the valid pairs only, the
// block's conditions and tests.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "tests/support/test_support.h"
#include "trainer/core/config_loader.h"
#include "trainer/train/lift.h"
#include "trainer/train/seller_trainer.h"

namespace seller::train {
namespace {

namespace fs = std::filesystem;
using seller::testing::TempDir;

TEST(LiftMath, ZscoreAndRerankingByHand) {
  // base (3, 2, 1): mean 2, population sd sqrt(2/3) = 0.816497 -> z = (1.224745, 0, -1.224745).
  const auto zb = zscore(std::vector<double>{3, 2, 1});
  EXPECT_NEAR(zb[0], 1.224744871, 1e-9);
  EXPECT_NEAR(zb[1], 0, 1e-12);
  // feature (0, 0, 1): mean 1/3, sd sqrt(2/9) = 0.471405 -> z = (-0.707107, -0.707107, 1.414214).
  const auto zf = zscore(std::vector<double>{0, 0, 1});
  EXPECT_NEAR(zf[2], 1.414213562, 1e-9);
  EXPECT_EQ(zscore(std::vector<double>{5, 5}), (std::vector<double>{0, 0}));  // sd 0 -> zeros

  LiftQuery q{{7, 8, 9}, {3, 2, 1}, {0, 0, 1}, 9};
  EXPECT_EQ(rerank_rank(q, 0), 3u);  // SASRec order: 7, 8, 9
  // w = 0.5: (1.2247 - 0.3536, 0 - 0.3536, -1.2247 + 0.7071) = (0.871, -0.354, -0.518) -> 3.
  EXPECT_EQ(rerank_rank(q, 0.5), 3u);
  // w = 1: (0.518, -0.707, 0.190) -> the target is second.
  EXPECT_EQ(rerank_rank(q, 1), 2u);
  // w = 2: (-0.190, -1.414, 1.604) -> first.
  EXPECT_EQ(rerank_rank(q, 2), 1u);
  q.target = 4;  // not among the candidates: a miss whatever w is
  EXPECT_EQ(rerank_rank(q, 2), 0u);
  EXPECT_EQ(lift_values({q}, 2), (std::vector<std::vector<double>>{{0.0, 0.0}}));
  // Ties are pessimistic: a constant scorer ranks the target last.
  EXPECT_EQ(rerank_rank(LiftQuery{{1, 2, 3}, {1, 1, 1}, {0, 0, 0}, 1}, 1), 3u);

  // Grid search: NDCG@10 at rank 3, 2, 1 = 1/log2(4), 1/log2(3), 1 for w = 0, 1, 2; the best is 2.
  q.target = 9;
  std::vector<std::pair<double, double>> curve;
  EXPECT_EQ(choose_weight({q}, {0, 1, 2, 3}, &curve), 2.0);
  ASSERT_EQ(curve.size(), 4u);
  EXPECT_DOUBLE_EQ(curve[0].second, 0.5);
  EXPECT_NEAR(curve[1].second, 1 / std::log2(3.0), 1e-12);
  EXPECT_DOUBLE_EQ(curve[2].second, 1.0);
  EXPECT_DOUBLE_EQ(curve[3].second, 1.0);  // tie with w = 2: the smaller w wins
  // A feature that carries nothing (constant) keeps w at the first grid point.
  EXPECT_EQ(choose_weight({LiftQuery{{7, 8, 9}, {3, 2, 1}, {1, 1, 1}, 7}}, {0, 1, 2}), 0.0);
}

// A model small enough to train in seconds on 2 CPU cores (tests/integration/test_cli_seller).
const std::vector<std::string> kTiny = {"task=seller",
                                        "llm.vocab_size=600",
                                        "llm.hidden_size=64",
                                        "llm.intermediate_size=128",
                                        "llm.layers=2",
                                        "llm.heads=4",
                                        "llm.kv_heads=2",
                                        "llm.head_dim=16",
                                        "llm.max_positions=96",
                                        "sasrec.hidden=32",
                                        "sasrec.max_len=10",
                                        "semantic.encoder=learned",
                                        "semantic.dim=32",
                                        "adapter.model_dim=48",
                                        "adapter.expert_hidden=96",
                                        "adapter.experts=4",
                                        "train.batch_size=32",
                                        "train.lr=0.003",
                                        "train.warmup_steps=10",
                                        "train.log_every=40",
                                        "train.device=cpu",
                                        "train.epochs=2",
                                        "generate.max_new_tokens=12",
                                        "generate.batch_size=128"};

TEST(Lift, TinyRunProtocol) {
  TempDir tmp;
  const std::string seller = seller::testing::seller_binary();
  const auto gen = seller::testing::run_command(
      seller +
      " data generate --set synthetic.users=150 --set synthetic.items=60"
      " --set synthetic.mean_history=10 --output " +
      (tmp / "s.jsonl.gz").string());
  ASSERT_EQ(gen.exit_code, 0) << gen.output;
  const auto prep = seller::testing::run_command(
      seller + " data prepare --format synthetic --input " + (tmp / "s.jsonl.gz").string() +
      " --output " + (tmp / "data").string());
  ASSERT_EQ(prep.exit_code, 0) << prep.output;

  core::Config cfg;
  core::ConfigLoader loader(cfg);
  for (const auto& o : kTiny) loader.apply_override(o);
  loader.apply_override("train.data=" + (tmp / "data").string());
  loader.validate();
  const auto ds = data::Dataset::open(cfg.train.data);
  const fs::path run_dir = tmp / "run";
  train_seller(cfg, loader.dump(), ds, run_dir, nullptr);
  core::Config loaded;
  auto run = load_seller_run(run_dir, loaded, ds, torch::kCPU, nullptr);

  LiftOptions o;
  o.k = 20;
  o.limit = 25;
  const auto r = run_lift(
      run, loaded, ds,
      [](const std::vector<std::string>& fit) { return eval::make_tfidf_embedder(fit); }, o,
      torch::kCPU, nullptr);
  EXPECT_EQ(r.embedder, "tfidf");
  EXPECT_EQ(r.block.encoder, "tfidf");
  for (const LiftSplit* s : {&r.valid, &r.test}) {
    ASSERT_EQ(s->real.size(), 25u);
    ASSERT_EQ(s->shuffled.size(), 25u);
    ASSERT_EQ(s->explanations.size(), 25u);
    EXPECT_EQ(s->full.count(), 25u);
    for (size_t i = 0; i < s->real.size(); ++i) {
      const LiftQuery& q = s->real[i];
      ASSERT_EQ(q.candidates.size(), 20u);
      EXPECT_EQ(std::set<uint32_t>(q.candidates.begin(), q.candidates.end()).size(), 20u);
      EXPECT_EQ(q.feature.size(), 20u);
      EXPECT_EQ(s->explanations[i].size(), 20u);
      EXPECT_TRUE(std::is_sorted(q.base.rbegin(), q.base.rend()));  // SASRec's order
      EXPECT_EQ(s->shuffled[i].candidates, q.candidates);
      EXPECT_EQ(s->shuffled[i].base, q.base);
      for (double f : q.feature) EXPECT_TRUE(f >= -1e-6 && f <= 1 + 1e-6) << f;
      // w = 0 is SASRec's full ranking: the same rank wherever it counts for @10.
      const uint64_t full = s->full.ranks()[i];
      const uint64_t top = rerank_rank(q, 0);
      if (full <= 20)
        EXPECT_EQ(top, full) << "pair " << i;
      else
        EXPECT_EQ(top, 0u) << "pair " << i;
    }
    EXPECT_GE(s->topk_recall(), 0.0);
  }
  // no_text (w = 0) reproduces the plain ranking metrics exactly.
  const auto& no_text = r.block.values[2];
  double ndcg = 0, hr = 0;
  for (const auto& v : no_text) ndcg += v[0], hr += v[1];
  EXPECT_DOUBLE_EQ(ndcg / 25, r.test.full.ndcg(10));
  EXPECT_DOUBLE_EQ(hr / 25, r.test.full.hr(10));
  // The weight is the valid argmax, recomputed from the valid queries alone.
  EXPECT_EQ(r.weight, choose_weight(r.valid.real, o.grid));
  EXPECT_EQ(r.weight_shuffled, choose_weight(r.valid.shuffled, o.grid));
  ASSERT_EQ(r.curve.size(), o.grid.size());
  for (size_t g = 0; g < o.grid.size(); ++g)
    EXPECT_DOUBLE_EQ(r.curve[g].second, mean_ndcg10(r.valid.real, o.grid[g]));
  // The block: the explanation at the valid weight, shuffled at its own, no text at 0.
  EXPECT_EQ(r.block.conditions, (std::vector<std::string>{"explanation", "shuffled", "no_text"}));
  EXPECT_EQ(r.block.values[0], lift_values(r.test.real, r.weight));
  EXPECT_EQ(r.block.values[1], lift_values(r.test.shuffled, r.weight_shuffled));
  ASSERT_EQ(r.block.tests.size(), 2u);
  const auto summary = eval::summarize_utility(r.block, {200, 0, 0.95});
  std::cout << "tiny run: test NDCG@10 explanation " << summary.figures[0][0].value << " shuffled "
            << summary.figures[1][0].value << " no_text " << summary.figures[2][0].value << "; w "
            << r.weight << " (shuffled " << r.weight_shuffled << "), top-20 recall "
            << r.test.topk_recall() << "\n";
}

}  // namespace
}  // namespace seller::train
