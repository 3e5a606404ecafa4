// The SELLER model through the `seller` executable, as the main job runs it: generate a small
// synthetic dataset, prepare it, `seller train` (task = seller), `seller generate --run` for the
// test pairs with each history control, and `seller eval`. Checks the run folder, one
// explanation per test pair, and that the synthetic data is learnable: the explanations name the
// aspect the generator planted for that pair (the record's feature) far more often than the
// aspect of another pair (a shuffled assignment, the chance baseline). Bad input is rejected with
// the key or file named and no output left behind.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/test_support.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

seller::testing::CommandResult seller(const std::string& args) {
  return run_command(seller::testing::seller_binary() + " " + args);
}

bool built_with_torch() { return seller("--version").output.find("torch=on") != std::string::npos; }

std::vector<nlohmann::json> read_jsonl(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A model small enough to train in about a minute on 2 CPU cores.
const char* kTiny =
    " --set task=seller --set llm.vocab_size=600 --set llm.hidden_size=64"
    " --set llm.intermediate_size=128 --set llm.layers=2 --set llm.heads=4 --set llm.kv_heads=2"
    " --set llm.head_dim=16 --set llm.max_positions=96 --set sasrec.hidden=32 --set "
    "sasrec.max_len=10"
    " --set semantic.encoder=learned --set semantic.dim=32 --set adapter.model_dim=48"
    " --set adapter.expert_hidden=96 --set adapter.experts=4 --set train.batch_size=32"
    " --set train.lr=0.003 --set train.warmup_steps=20 --set train.log_every=40"
    " --set train.device=cpu --set generate.max_new_tokens=32 --set generate.batch_size=64";

class SellerCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!built_with_torch()) return;
    tmp_ = new TempDir();
    const auto gen = seller(
        "data generate --set synthetic.users=400 --set synthetic.items=150"
        " --set synthetic.mean_history=12 --output " +
        (tmp_->path() / "s.jsonl.gz").string());
    ASSERT_EQ(gen.exit_code, 0) << gen.output;
    const auto prep = seller("data prepare --format synthetic --input " +
                             (tmp_->path() / "s.jsonl.gz").string() + " --output " + data());
    ASSERT_EQ(prep.exit_code, 0) << prep.output;
    train_ = new seller::testing::CommandResult(
        seller(std::string("train") + kTiny + " --set train.epochs=3 --set train.data=" + data() +
               " --set run.output_dir=" + (tmp_->path() / "runs").string() + " --set run.name=m"));
  }
  static void TearDownTestSuite() {
    delete train_;
    delete tmp_;
  }
  void SetUp() override {
    if (!built_with_torch()) GTEST_SKIP() << "seller built without LibTorch: no seller train";
  }
  static std::string data() { return (tmp_->path() / "data").string(); }
  static fs::path run() { return tmp_->path() / "runs" / "m"; }
  static TempDir* tmp_;
  static seller::testing::CommandResult* train_;
};
TempDir* SellerCli::tmp_ = nullptr;
seller::testing::CommandResult* SellerCli::train_ = nullptr;

TEST_F(SellerCli, TrainWritesARunFolderAndReportsTestFigures) {
  ASSERT_EQ(train_->exit_code, 0) << train_->output;
  for (const char* text : {"seller train:", "tok/s", "ETA", "valid epoch 3", "test (",
                           "shuffled history", "no history", "HR@10"})
    EXPECT_NE(train_->output.find(text), std::string::npos) << text << "\n" << train_->output;
  for (const char* f : {"config.yaml", "model.safetensors", "vocab.words", "metrics.jsonl"})
    EXPECT_TRUE(fs::exists(run() / f)) << f;
  // The log: a start line, progress lines with the experts' load, validations and a test line.
  std::set<std::string> events;
  double first_loss = -1, last_loss = -1;
  for (const auto& j : read_jsonl(run() / "metrics.jsonl")) {
    events.insert(j.at("event").get<std::string>());
    if (j["event"] == "train") {
      EXPECT_TRUE(j.contains("expert_tokens"));
      EXPECT_EQ(j["expert_tokens"].size(), 4u);
      if (first_loss < 0) first_loss = j["explanation_loss"].get<double>();
      last_loss = j["explanation_loss"].get<double>();
    }
  }
  EXPECT_EQ(events, (std::set<std::string>{"start", "train", "valid", "test"}));
  EXPECT_LT(last_loss, 0.6 * first_loss) << "the explanation loss did not fall";
}

TEST_F(SellerCli, ExplanationsNameThePlantedAspectAboveChance) {
  ASSERT_EQ(train_->exit_code, 0) << train_->output;
  const auto preds = tmp_->path() / "p.jsonl", refs = tmp_->path() / "r.jsonl";
  const auto r = seller("generate --run " + run().string() + " --output " + preds.string() +
                        " --refs " + refs.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("generated:"), std::string::npos) << r.output;
  const auto p = read_jsonl(preds), q = read_jsonl(refs);
  ASSERT_EQ(p.size(), 400u);  // one test pair per user
  ASSERT_EQ(q.size(), p.size());
  std::set<std::string> ids;
  size_t own = 0, other = 0, empty = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    ids.insert(p[i]["id"].get<std::string>());
    EXPECT_EQ(p[i]["id"], q[i]["id"]);
    const auto text = p[i]["text"].get<std::string>();
    empty += text.empty();
    // The feature is lower-case aspect words; the word-level tokenizer lower-cases too.
    own += text.find(p[i]["feature"].get<std::string>()) != std::string::npos;
    const auto& shifted = p[(i + 97) % p.size()]["feature"];  // another user's pair
    other += text.find(shifted.get<std::string>()) != std::string::npos;
  }
  EXPECT_EQ(ids.size(), p.size());
  EXPECT_LT(empty, p.size() / 20);
  const double own_rate = static_cast<double>(own) / p.size();
  const double other_rate = static_cast<double>(other) / p.size();
  std::cout << "planted aspect named in " << own_rate << " of explanations; another pair's in "
            << other_rate << "\n";
  EXPECT_GT(own_rate, 1.5 * other_rate + 0.05);
}

TEST_F(SellerCli, HistoryControlsAndEval) {
  ASSERT_EQ(train_->exit_code, 0) << train_->output;
  for (const char* h : {"shuffled", "none"}) {
    const auto out = tmp_->path() / (std::string("p-") + h + ".jsonl");
    const auto r = seller("generate --run " + run().string() + " --history " + h +
                          " --limit 50 --samples 0 --output " + out.string());
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto p = read_jsonl(out);
    ASSERT_EQ(p.size(), 50u);
    EXPECT_EQ(p[0]["history"], h);
  }
  const auto preds = tmp_->path() / "e.jsonl", refs = tmp_->path() / "er.jsonl";
  ASSERT_EQ(seller("generate --run " + run().string() + " --limit 60 --samples 0 --output " +
                   preds.string() + " --refs " + refs.string())
                .exit_code,
            0);
  const auto e = seller("eval --no-plot --pred " + preds.string() + " --ref " + refs.string() +
                        " --out " + (tmp_->path() / "eval").string());
  ASSERT_EQ(e.exit_code, 0) << e.output;
  const auto m =
      nlohmann::json::parse(seller::testing::read_file(tmp_->path() / "eval" / "metrics.json"));
  EXPECT_FALSE(m.empty());
}

// train.profile_steps: a Kineto trace of exactly the asked optimizer steps, with the loop's
// phases as named scopes, written whole (no temporary left); a negative count names the key.
TEST_F(SellerCli, ProfileWritesATraceOfTheAskedSteps) {
  const auto r = seller(
      std::string("train") + kTiny + " --set train.max_steps=6" +
      " --set train.profile_steps=2 --set train.profile_from=2" + " --set train.data=" + data() +
      " --set run.output_dir=" + (tmp_->path() / "runs").string() + " --set run.name=prof");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const fs::path trace = tmp_->path() / "runs" / "prof" / "profile" / "rank-0.json";
  ASSERT_TRUE(fs::exists(trace)) << r.output;
  EXPECT_FALSE(fs::exists(trace.string() + ".tmp"));
  std::ifstream in(trace);
  const auto j = nlohmann::json::parse(in);
  std::map<std::string, int> scopes;
  int ops = 0;
  for (const auto& e : j.at("traceEvents")) {
    const auto name = e.value("name", std::string());
    if (name.rfind("seller.", 0) == 0) ++scopes[name];
    if (e.value("cat", std::string()) == "cpu_op") ++ops;
  }
  EXPECT_EQ(scopes["seller.optimizer"], 2);
  EXPECT_EQ(scopes["seller.batch"], 2);  // grad_accum 1: one micro-batch a step
  EXPECT_EQ(scopes["seller.forward"], 2);
  EXPECT_EQ(scopes["seller.backward"], 2);
  EXPECT_GT(ops, 100) << "the trace holds no operators";
  const auto bad = seller(std::string("train") + kTiny + " --set train.data=" + data() +
                          " --set train.profile_steps=-1");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("train.profile_steps"), std::string::npos) << bad.output;
}

// adapter.dispatch = dense (the GPU default, trainer/model/moe/dense_dispatch.h) through the
// training loop on CPU: its expert counts stay pending on the device and are settled at each
// progress line, so the logged expert load must be the sorted dispatch's, window by window,
// with kept + dropped = routed; the losses agree up to summation order.
TEST_F(SellerCli, DenseMoeDispatchLogsTheSortedDispatchsExpertLoad) {
  std::map<std::string, std::vector<nlohmann::json>> windows;
  for (const std::string dispatch : {"sorted", "dense"}) {
    const auto r = seller(std::string("train") + kTiny + " --set train.max_steps=10" +
                          " --set train.log_every=5 --set adapter.dispatch=" + dispatch +
                          " --set train.data=" + data() + " --set run.output_dir=" +
                          (tmp_->path() / "runs").string() + " --set run.name=moe-" + dispatch);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& j : read_jsonl(tmp_->path() / "runs" / ("moe-" + dispatch) / "metrics.jsonl"))
      if (j["event"] == "train") windows[dispatch].push_back(j);
  }
  ASSERT_EQ(windows["sorted"].size(), 2u);
  ASSERT_EQ(windows["dense"].size(), 2u);
  int64_t dropped = 0;
  for (size_t w = 0; w < 2; ++w) {
    const auto &a = windows["sorted"][w], &b = windows["dense"][w];
    EXPECT_EQ(a["expert_tokens"], b["expert_tokens"]) << "window " << w;
    EXPECT_EQ(a["expert_dropped"], b["expert_dropped"]) << "window " << w;
    EXPECT_EQ(a["expert_assignments"], b["expert_assignments"]) << "window " << w;
    int64_t kept = 0;
    for (const auto& c : b["expert_tokens"]) kept += c.get<int64_t>();
    EXPECT_EQ(kept + b["expert_dropped"].get<int64_t>(), b["expert_assignments"].get<int64_t>());
    dropped += b["expert_dropped"].get<int64_t>();
    EXPECT_NEAR(a["loss"].get<double>(), b["loss"].get<double>(), 1e-4) << "window " << w;
  }
  EXPECT_GT(dropped, 0) << "no capacity drops: the kept mask was not exercised";
}

TEST_F(SellerCli, BadInputIsRejectedWithoutOutput) {
  auto r = seller("generate --run " + (tmp_->path() / "nope").string() + " --output " +
                  (tmp_->path() / "x.jsonl").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("not a run folder"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp_->path() / "x.jsonl"));
  r = seller("generate --run " + run().string() + " --history sideways --output " +
             (tmp_->path() / "y.jsonl").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("sideways"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(tmp_->path() / "y.jsonl"));
  r = seller(std::string("train") + kTiny + " --set train.data=" + data() +
             " --set seller.llm_mode=lora");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("seller.llm_mode"), std::string::npos) << r.output;
  r = seller(std::string("train") + kTiny + " --set train.data=" + data() +
             " --set adapter.top_k=9");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("adapter.top_k"), std::string::npos) << r.output;
}

}  // namespace
