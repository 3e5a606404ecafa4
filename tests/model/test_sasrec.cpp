// SASRec on CPU: causal masking and padding invariance, the train/eval sequence rules, learning on
// a tiny sequential dataset (beats popularity and its own shuffled-history control), determinism
// with a fixed seed, the sampled-softmax option, and config rejections naming the key.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/model/seq/sasrec.h"
#include "trainer/train/sasrec_trainer.h"

namespace seller::train {
namespace {
namespace fs = std::filesystem;
using seller::testing::TempDir;

model::SasrecOptions small_options() {
  model::SasrecOptions o;
  o.num_items = 30, o.hidden = 16, o.layers = 2, o.heads = 2, o.max_len = 8, o.dropout = 0.3;
  return o;
}

TEST(Sasrec, OutputAtTIgnoresLaterItems) {
  torch::manual_seed(1);
  model::Sasrec m(small_options());
  m->eval();
  torch::NoGradGuard no_grad;
  auto a = torch::tensor({{0, 0, 3, 7, 9, 2, 5, 11}}, torch::kLong);
  auto b = a.clone();
  b.index_put_({0, torch::indexing::Slice(5, 8)}, torch::tensor({20, 21, 22}, torch::kLong));
  auto ha = m->forward(a), hb = m->forward(b);
  EXPECT_TRUE(torch::allclose(ha.slice(1, 0, 5), hb.slice(1, 0, 5), 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(ha.slice(1, 5), hb.slice(1, 5), 1e-5, 1e-6));
  // More left padding changes nothing for the real positions (positions count from the end).
  auto c = torch::tensor({{0, 0, 0, 0, 0, 9, 2, 5}}, torch::kLong);
  auto d = torch::tensor({{9, 2, 5}}, torch::kLong);
  EXPECT_TRUE(torch::allclose(m->forward(c).slice(1, 5), m->forward(d), 1e-5, 1e-6));
  EXPECT_EQ(m->next_item_scores(a).sizes(), (std::vector<int64_t>{1, 30}));
}

TEST(Sasrec, LossIgnoresPaddingTargetsAndSampledIsFinite) {
  torch::manual_seed(2);
  model::Sasrec m(small_options());
  auto in = torch::tensor({{0, 0, 1, 2}, {3, 4, 5, 6}}, torch::kLong);
  auto tg = torch::tensor({{0, 0, 2, 3}, {4, 5, 6, 7}}, torch::kLong);
  auto ce = m->loss(in, tg);
  EXPECT_TRUE(std::isfinite(ce.item<double>()));
  EXPECT_NEAR(ce.item<double>(), std::log(30.0), 1.0);  // near uniform at initialisation
  ce.backward();
  EXPECT_TRUE(m->item_emb->weight.grad().defined());
  auto sampled = m->loss(in, tg, 5);
  EXPECT_TRUE(std::isfinite(sampled.item<double>()));
}

// Users follow a chain item, item + 1, item + 2, ... (mod 40) from a random start: the next item
// is predictable from order, while popularity is flat.
fs::path prepare_chain_dataset(const TempDir& tmp, int users = 240) {
  std::vector<data::Record> records;
  uint64_t x = 12345;
  for (int u = 0; u < users; ++u) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const int start = static_cast<int>((x >> 33) % 40);
    const int len = 6 + static_cast<int>((x >> 20) % 5);
    for (int k = 0; k < len; ++k) {
      data::Record r;
      r.user = "u" + std::to_string(u);
      r.item = "i" + std::to_string((start + k) % 40);
      r.timestamp = 1000 * k;
      records.push_back(r);
    }
  }
  data::PrepareOptions o;
  o.source_format = "test";
  data::prepare_dataset(
      [&](const data::RecordSink& sink) {
        for (size_t i = 0; i < records.size(); ++i) sink(records[i], {"mem", i + 1});
      },
      o, tmp / "ds");
  return tmp / "ds";
}

core::Config tiny_config(const fs::path& data, std::vector<std::string> extra = {}) {
  std::vector<std::string> sets = {"task=sasrec",         "train.data=" + data.string(),
                                   "sasrec.hidden=32",    "sasrec.layers=1",
                                   "sasrec.heads=2",      "sasrec.max_len=10",
                                   "sasrec.dropout=0.1",  "train.epochs=25",
                                   "train.batch_size=32", "train.lr=0.005",
                                   "train.eval_every=5",  "train.patience=0",
                                   "train.device=cpu",    "train.seed=3"};
  sets.insert(sets.end(), extra.begin(), extra.end());
  return core::load_config<core::Config>({}, sets);
}

TEST(SasrecTrainer, SequencesFollowTheSplitTags) {
  TempDir tmp;
  auto ds = data::Dataset::open(prepare_chain_dataset(tmp, 20));
  const auto d = build_sasrec_data(ds, 4);
  ASSERT_EQ(d.valid.size(), 20u);
  ASSERT_EQ(d.test.size(), 20u);
  for (uint32_t u = 0; u < 3; ++u) {
    const auto h = ds.history(u);
    const size_t n = h.size();
    EXPECT_EQ(d.test[u].target, h[n - 1]);
    EXPECT_EQ(d.valid[u].target, h[n - 2]);
    EXPECT_EQ(d.test[u].history, std::vector<uint32_t>(h.begin() + (n - 5), h.end() - 1));
    EXPECT_EQ(d.valid[u].history, std::vector<uint32_t>(h.begin() + (n - 6), h.end() - 2));
    const size_t train_len = std::min<size_t>(5, n - 2);  // last max_len + 1 train items
    EXPECT_EQ(d.train[u], std::vector<uint32_t>(h.begin() + (n - 2 - train_len), h.end() - 2));
  }
}

TEST(SasrecTrainer, LearnsOrderBeyondPopularityAndShuffledControl) {
  TempDir tmp;
  const auto dir = prepare_chain_dataset(tmp);
  auto ds = data::Dataset::open(dir);
  const auto cfg = tiny_config(dir);
  const auto r = train_sasrec(ds, cfg.sasrec, cfg.train, tmp / "run", nullptr);
  ASSERT_EQ(r.epoch_loss.size(), 25u);
  EXPECT_LT(r.epoch_loss.back(), 0.7 * r.epoch_loss.front());
  EXPECT_GT(r.test.hr10, 0.8);
  EXPECT_GT(r.test.hr10, r.test_popularity.hr10 + 0.3);
  EXPECT_GT(r.test.ndcg10, r.test_shuffled.ndcg10 + 0.2);
  EXPECT_GT(r.best_epoch, 0);
  const std::string log = seller::testing::read_file(tmp / "run" / "metrics.jsonl");
  EXPECT_NE(log.find("\"event\":\"test\""), std::string::npos);
  EXPECT_NE(log.find("\"shuffled_history\""), std::string::npos);
}

TEST(SasrecTrainer, FixedSeedIsDeterministicAndSampledLossLearns) {
  TempDir tmp;
  const auto dir = prepare_chain_dataset(tmp, 120);
  auto ds = data::Dataset::open(dir);
  const auto cfg = tiny_config(dir, {"train.epochs=4", "train.warmup_steps=3", "train.clip=0.5"});
  const auto a = train_sasrec(ds, cfg.sasrec, cfg.train, {}, nullptr);
  const auto b = train_sasrec(ds, cfg.sasrec, cfg.train, {}, nullptr);
  EXPECT_EQ(a.epoch_loss, b.epoch_loss);
  EXPECT_EQ(a.test.mrr, b.test.mrr);
  const auto other = tiny_config(dir, {"train.epochs=4", "train.seed=4"});
  EXPECT_NE(train_sasrec(ds, other.sasrec, other.train, {}, nullptr).epoch_loss, a.epoch_loss);
  const auto s = tiny_config(dir, {"sasrec.loss=sampled", "sasrec.negatives=8", "train.epochs=15"});
  const auto rs = train_sasrec(ds, s.sasrec, s.train, {}, nullptr);
  EXPECT_LT(rs.epoch_loss.back(), rs.epoch_loss.front());
  EXPECT_GT(rs.test.hr10, rs.test_popularity.hr10);
}

TEST(SasrecTrainer, TrainCommandPrintsTestMetricsAndRejectsRawFiles) {
  TempDir tmp;
  const auto dir = prepare_chain_dataset(tmp, 60);
  const std::string bin = seller::testing::seller_binary();
  const std::string common =
      " train --set task=sasrec --set sasrec.hidden=16 --set sasrec.layers=1"
      " --set train.epochs=2 --set train.eval_every=1 --set train.device=cpu"
      " --set run.output_dir=" +
      (tmp / "runs").string();
  auto r = seller::testing::run_command(bin + common + " --set train.data=" + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  for (const char* text : {"epoch 2/2", "test (best epoch", "HR@10", "NDCG@10",
                           "shuffled-history control", "wall time"})
    EXPECT_NE(r.output.find(text), std::string::npos) << text << "\n" << r.output;
  EXPECT_TRUE(fs::exists(tmp / "runs" / "default" / "metrics.jsonl"));
  seller::testing::write_file(tmp / "raw.txt", "u1 i1 i2 i3\n");
  r = seller::testing::run_command(bin + common +
                                   " --set train.data=" + (tmp / "raw.txt").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not a prepared dataset folder"), std::string::npos) << r.output;
  r = seller::testing::run_command(bin + " train --set task=seller");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("train.data must name a prepared dataset folder"), std::string::npos)
      << r.output;
}

void expect_rejected(const std::vector<std::string>& sets, const std::string& key) {
  try {
    core::load_config<core::Config>({}, sets);
    ADD_FAILURE() << "expected a ConfigError naming " << key;
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'" + key + "'"), std::string::npos) << e.what();
  }
}

TEST(SasrecConfig, RejectionsNameTheKey) {
  expect_rejected({"sasrec.hidden=30", "sasrec.heads=4"}, "sasrec.heads");
  expect_rejected({"sasrec.dropout=1.0"}, "sasrec.dropout");
  expect_rejected({"sasrec.max_len=0"}, "sasrec.max_len");
  expect_rejected({"sasrec.negatives=0"}, "sasrec.negatives");
  expect_rejected({"train.eval_every=0"}, "train.eval_every");
  expect_rejected({"train.lr=0"}, "train.lr");
  expect_rejected({"train.device=gpu"}, "train.device");
  expect_rejected({"task=sasrec"}, "train.data");
  EXPECT_THROW(core::load_config<core::Config>({}, {"sasrec.loss=bpr"}), ConfigError);
  EXPECT_THROW(core::load_config<core::Config>({}, {"task=bert4rec"}), ConfigError);
  EXPECT_NO_THROW(core::load_config<core::Config>({}, {"task=sasrec", "train.data=x"}));
}

}  // namespace
}  // namespace seller::train
