// Checkpoints end to end through the `seller` executable (task = seller, a tiny model on a small
// synthetic dataset, ~1.5 s per run on 2 cores). The reference is an uninterrupted run; every
// fault below must end with the same metrics.jsonl losses (train, valid and test lines, step by
// step) and a byte-identical model.safetensors:
//   kill -9 in mid-training (after a checkpoint commit seen in the output, in mid log window),
//   kill -9 in mid-save (SELLER_FAULT=kill-after-chunk: chunk written, nothing committed),
//   SIGTERM / SIGUSR1 (finish the step, save, exit with checkpoint.signal_exit_code),
//   a corrupt newest checkpoint (skipped with a warning naming the file).
// And the failures that must be clear errors without touching a committed checkpoint: disk full
// and read-only folder (fault injection: tests run as root), a manifest of another model or
// config; plus `seller ckpt inspect|verify|reshard`.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/test_support.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::CommandResult;
using seller::testing::run_command;
using seller::testing::TempDir;

const std::string kTiny =
    std::string(seller::testing::tiny_seller_model_flags()) +
    " --set train.batch_size=16 --set train.lr=0.003 --set train.warmup_steps=5"
    " --set train.log_every=5 --set train.epochs=3 --set train.eval_every=1"
    " --set checkpoint.every_steps=7";

std::string seller_bin() { return seller::testing::seller_binary(); }
CommandResult seller(const std::string& args) { return run_command(seller_bin() + " " + args); }
bool built_with_torch() { return seller("--version").output.find("torch=on") != std::string::npos; }

// Every logged figure by key ("train 35", "valid 2", "test"): all lines of a key must agree.
std::multimap<std::string, std::string> figures(const fs::path& run) {
  std::multimap<std::string, std::string> out;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    const auto ev = j["event"].get<std::string>();
    if (ev == "train") {
      for (const char* k : {"tokens_per_s", "examples_per_s", "eta_s"}) j.erase(k);
      out.emplace("train " + std::to_string(j["step"].get<int64_t>()), j.dump());
    } else if (ev == "valid") {
      out.emplace("valid " + std::to_string(j["epoch"].get<int64_t>()), j.dump());
    } else if (ev == "test") {
      j.erase("seconds");
      out.emplace("test", j.dump());
    }
  }
  return out;
}

class CkptCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!built_with_torch()) return;
    // One thread per run: the tiny model gains nothing from more, and on a shared 2-core
    // machine OpenMP's spinning threads made each run 20x slower. Bit-exactness is compared
    // between runs with the same thread count, as it must be.
    setenv("OMP_NUM_THREADS", "1", 1);
    tmp_ = new TempDir();
    const auto raw = (tmp_->path() / "s.jsonl.gz").string();
    ASSERT_EQ(seller("data generate --set synthetic.users=120 --set synthetic.items=60"
                     " --set synthetic.mean_history=10 --output " +
                     raw)
                  .exit_code,
              0);
    ASSERT_EQ(
        seller("data prepare --format synthetic --input " + raw + " --output " + data()).exit_code,
        0);
    const auto r = train("ref");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    reference_ = new std::multimap<std::string, std::string>(figures(run("ref")));
  }
  static void TearDownTestSuite() {
    delete reference_;
    delete tmp_;
  }
  void SetUp() override {
    if (!built_with_torch()) GTEST_SKIP() << "seller built without LibTorch";
  }
  static std::string data() { return (tmp_->path() / "data").string(); }
  static fs::path run(const std::string& name) { return tmp_->path() / "runs" / name; }
  static std::string train_args(const std::string& name, const std::string& extra = "") {
    return std::string("train") + kTiny + " --set train.data=" + data() +
           " --set run.output_dir=" + (tmp_->path() / "runs").string() + " --set run.name=" + name +
           extra;
  }
  static CommandResult train(const std::string& name, const std::string& extra = "") {
    return seller(train_args(name, extra));
  }
  // Starts a run in the background, waits for `pattern` in its output, sends `signal`, and
  // returns the output with "rc=<status>" appended.
  static CommandResult train_and_signal(const std::string& name, const std::string& pattern,
                                        const std::string& signal) {
    const auto log = (tmp_->path() / (name + ".log")).string();
    const auto script_file = tmp_->path() / (name + ".sh");
    seller::testing::write_file(
        script_file, seller_bin() + " " + train_args(name) + " > " + log + " 2>&1 &\nP=$!\n" +
                         "while ! grep -q '" + pattern + "' " + log +
                         "; do kill -0 $P 2>/dev/null || break; sleep 0.005; done\nkill -" +
                         signal + " $P\nwait $P\necho rc=$?\ncat " + log + "\n");
    return run_command("bash " + script_file.string());
  }
  static void expect_same_as_reference(const std::string& name) {
    const auto got = figures(run(name));
    for (const auto& [key, value] : got) {
      const auto it = reference_->find(key);
      ASSERT_NE(it, reference_->end()) << key;
      EXPECT_EQ(value, it->second) << key;
    }
    for (const auto& [key, value] : *reference_) EXPECT_TRUE(got.count(key)) << "missing " << key;
    EXPECT_EQ(seller::testing::read_file(run(name) / "model.safetensors"),
              seller::testing::read_file(run("ref") / "model.safetensors"))
        << "final parameters differ from the uninterrupted run";
  }
  static TempDir* tmp_;
  static std::multimap<std::string, std::string>* reference_;
};
TempDir* CkptCli::tmp_ = nullptr;
std::multimap<std::string, std::string>* CkptCli::reference_ = nullptr;

TEST_F(CkptCli, CheckpointingDoesNotChangeTheRun) {
  const auto r = train("off", " --set checkpoint.every_steps=0 --set checkpoint.save_at_end=false");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(run("off") / "checkpoints" / "latest"));
  expect_same_as_reference("off");
  // The reference kept the newest two, the last one marked finished; rerunning it resumes there.
  const auto again = train("ref");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_NE(again.output.find("resumed from"), std::string::npos) << again.output;
  EXPECT_NE(again.output.find("step-000000144"), std::string::npos) << again.output;
  // Starting afresh over an earlier run's checkpoints would mix the two: refused.
  const auto fresh = train("ref", " --set checkpoint.resume=never");
  EXPECT_EQ(fresh.exit_code, 1) << fresh.output;
  EXPECT_NE(fresh.output.find("earlier run"), std::string::npos) << fresh.output;
}

TEST_F(CkptCli, KillNineInMidTrainingResumesBitExact) {
  // Steps 28 (saved) .. kill: the log window 26..30 is cut, so its sums come from the checkpoint.
  const auto r = train_and_signal("kill", "step 28 ->", "9");
  EXPECT_NE(r.output.find("rc=137"), std::string::npos) << r.output;
  const auto resumed = train("kill");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  expect_same_as_reference("kill");
}

TEST_F(CkptCli, KillNineInMidSaveResumesFromThePreviousCommit) {
  // Dies inside the save of step 21: after its chunk file, or after its manifest (before the
  // rename that would make it step-21).
  for (const std::string fault : {"kill-after-chunk", "kill-before-commit"}) {
    const std::string name = "midsave-" + fault;
    setenv("SELLER_FAULT", (fault + "@3").c_str(), 1);
    const auto r = train(name);
    unsetenv("SELLER_FAULT");
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_FALSE(fs::exists(run(name) / "checkpoints" / "step-000000021"));
    bool tmp_left = false;
    for (const auto& e : fs::directory_iterator(run(name) / "checkpoints"))
      tmp_left |= e.path().filename().string().find(".tmp-") != std::string::npos;
    EXPECT_TRUE(tmp_left) << "the half-written save stays as a temporary, never as step-N";
    const auto resumed = train(name);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("step-000000014 at step 14"), std::string::npos)
        << resumed.output;
    expect_same_as_reference(name);
  }
}

TEST_F(CkptCli, SigtermAndSigusr1SaveAndExitForRequeue) {
  for (const char* sig : {"TERM", "USR1"}) {
    const std::string name = std::string("sig") + sig;
    const auto r = train_and_signal(name, "step 40/", sig);
    EXPECT_NE(r.output.find("rc=143"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(": saved step"), std::string::npos) << r.output;
    const auto resumed = train(name);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    expect_same_as_reference(name);
  }
}

TEST_F(CkptCli, CorruptNewestCheckpointIsSkippedWithAWarning) {
  ASSERT_EQ(train("corrupt").exit_code, 0);
  const auto newest = run("corrupt") / "checkpoints" / "step-000000144" / "rank-00000.safetensors";
  {
    std::fstream f(newest, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-9, std::ios::end);
    f.put('\x55');
  }
  const auto v = seller("ckpt verify " + newest.parent_path().string());
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.output.find("rank-00000.safetensors"), std::string::npos) << v.output;
  fs::remove(run("corrupt") / "model.safetensors");
  const auto r = train("corrupt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("warning: skipping checkpoint"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank-00000.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("at step 140"), std::string::npos) << r.output;
  expect_same_as_reference("corrupt");
}

TEST_F(CkptCli, DiskFullAndReadOnlyAreClearErrors) {
  for (const auto& [fault, text] :
       {std::pair<std::string, std::string>{"enospc@2", "No space left"},
        {"erofs@2", "Read-only file system"}}) {
    const std::string name = "fault-" + fault.substr(0, fault.find('@'));
    setenv("SELLER_FAULT", fault.c_str(), 1);
    const auto r = train(name);
    unsetenv("SELLER_FAULT");
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(text), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("checkpoints"), std::string::npos) << r.output;
    const auto good = run(name) / "checkpoints" / "step-000000007";
    EXPECT_EQ(seller("ckpt verify " + good.string()).exit_code, 0);
    EXPECT_FALSE(fs::exists(run(name) / "checkpoints" / "step-000000014"));
  }
}

TEST_F(CkptCli, AnotherModelsCheckpointIsRefused) {
  const auto other = train("other", " --set llm.hidden_size=48 --set train.epochs=1");
  ASSERT_EQ(other.exit_code, 0) << other.output;
  const auto foreign = run("other") / "checkpoints" / "step-000000048";
  auto r = train("victim", " --set checkpoint.resume=" + foreign.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("manifest.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("another config"), std::string::npos) << r.output;
  // Same config hash, other tensors: named as a mismatch of the model.
  const auto mine = run("ref") / "checkpoints" / "step-000000144";
  auto m = nlohmann::json::parse(seller::testing::read_file(foreign / "manifest.json"));
  m["config_hash"] =
      nlohmann::json::parse(seller::testing::read_file(mine / "manifest.json"))["config_hash"];
  seller::testing::write_file(foreign / "manifest.json", m.dump());
  r = train("victim", " --set checkpoint.resume=" + foreign.string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("does not match the model"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("shape of model/llm."), std::string::npos) << r.output;
}

TEST_F(CkptCli, InspectVerifyReshard) {
  const auto dir = run("ref") / "checkpoints" / "step-000000140";
  auto r = seller("ckpt inspect " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s :
       {"step 140", "dp=1,tp=1,ep=1", "optim:", "model:", "rng:", "consumed", "expert tokens"})
    EXPECT_NE(r.output.find(s), std::string::npos) << s << "\n" << r.output;
  r = seller("ckpt inspect " + run("ref").string());
  EXPECT_NE(r.output.find("latest -> step-000000144"), std::string::npos) << r.output;
  const auto four = tmp_->path() / "four", two = tmp_->path() / "two";
  r = seller("ckpt reshard " + dir.string() + " --to dp=4 --out " + four.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = seller("ckpt reshard " + four.string() + " --to dp=2,tp=1,ep=1 --out " + two.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(seller("ckpt verify " + two.string()).exit_code, 0);
  // A resharded checkpoint resumes a 1-rank run like the original (same global tensors).
  const auto from = train("fromtwo", " --set checkpoint.resume=" + two.string());
  ASSERT_EQ(from.exit_code, 0) << from.output;
  EXPECT_NE(from.output.find("written by 2 ranks"), std::string::npos) << from.output;
  r = seller("ckpt reshard " + dir.string() + " --to dp=0 --out " + (tmp_->path() / "x").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("dp"), std::string::npos) << r.output;
}

}  // namespace
