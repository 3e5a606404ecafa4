// Shared by the tests that run `seller train` on several CPU ranks (test_train_dp.cpp,
// test_train_tp.cpp): a tiny SELLER model and dataset, mpirun command lines, readers of a run's
// metrics.jsonl and model file, and a fixture that prepares the dataset once per suite.
// Included by one translation unit per test binary (its helpers live in an anonymous namespace).
#pragma once

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/io/safetensors_reader.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::CommandResult;
using seller::testing::run_command;
using seller::testing::TempDir;

constexpr double kTol = 1e-5;  // fp32 on CPU; the measured maxima are printed

// The tiny model of test_cli_ckpt.cpp, dropout off, 752 training pairs (divisible by 8 x 4).
const std::string kTiny =
    std::string(seller::testing::tiny_seller_model_flags()) +
    " --set sasrec.dropout=0 --set adapter.dropout=0 --set seller.max_train_examples=752"
    " --set train.lr=0.003 --set train.warmup_steps=5 --set train.log_every=5"
    " --set train.epochs=2 --set train.eval_every=1 --set checkpoint.every_steps=10";

std::string seller_bin() { return seller::testing::seller_binary(); }
CommandResult sh(const std::string& cmd) { return run_command(cmd); }
bool built_with_torch() {
  return sh(seller_bin() + " --version").output.find("torch=on") != std::string::npos;
}
bool have_mpirun() { return sh("command -v mpirun").exit_code == 0; }
std::string mpirun(int np) {
  // timeout: a hang fails the test instead of stalling ctest
  return "timeout 300 mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(np) + " ";
}

struct Logged {
  std::map<int64_t, double> train_loss;  // step -> mean loss of the window
  std::vector<double> valid_loss;
  double test_loss = NAN;
};

Logged read_log(const fs::path& run) {
  Logged out;
  std::ifstream in(run / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    const auto ev = j["event"].get<std::string>();
    if (ev == "train") out.train_loss[j["step"].get<int64_t>()] = j["loss"].get<double>();
    if (ev == "valid") out.valid_loss.push_back(j["valid"]["explanation_loss"].get<double>());
    if (ev == "test") out.test_loss = j["real_history"]["explanation_loss"].get<double>();
  }
  return out;
}

// Largest absolute difference between the f32 tensors of two model files (same names).
// Excluded: the key third of a fused attention bias (`*.qkv.bias`). Softmax is invariant to a
// bias shared by all keys, so its true gradient is exactly zero and what backward produces is
// rounding noise, which differs with the summation order; AdamW divides that noise by its own
// magnitude and turns it into lr-sized steps (measured: 3.7e-4 there, <= 5e-7 everywhere else).
double max_param_diff(const fs::path& a, const fs::path& b) {
  const auto fa = seller::io::SafetensorsFile::open(a);
  const auto fb = seller::io::SafetensorsFile::open(b);
  const auto ta = fa.tensors();
  const auto tb = fb.tensors();
  EXPECT_EQ(ta.size(), tb.size());
  std::map<std::string, seller::io::TensorView> by_name;
  for (const auto& t : tb) by_name[t.name] = t;
  double worst = 0;
  for (const auto& t : ta) {
    const auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      ADD_FAILURE() << "missing tensor " << t.name;
      continue;
    }
    EXPECT_EQ(t.shape, it->second.shape) << t.name;
    if (t.dtype != seller::io::DType::kF32) continue;
    const auto va = t.to_vector(), vb = it->second.to_vector();
    const auto n = va.size() / sizeof(float);
    const bool key_bias = t.name.size() > 9 && t.name.ends_with("qkv.bias");
    for (size_t i = 0; i < n; ++i) {
      if (key_bias && i >= n / 3 && i < 2 * n / 3) continue;
      float x, y;
      std::memcpy(&x, va.data() + i * sizeof(float), sizeof x);
      std::memcpy(&y, vb.data() + i * sizeof(float), sizeof y);
      worst = std::max(worst, static_cast<double>(std::fabs(x - y)));
    }
  }
  return worst;
}

// Largest |difference| of the logged train losses and test loss of two runs (same steps
// required), and of their final parameters.
[[maybe_unused]] std::pair<double, double> compare_runs(const fs::path& a_run,
                                                        const fs::path& b_run) {
  const auto a = read_log(a_run), b = read_log(b_run);
  EXPECT_EQ(a.train_loss.size(), b.train_loss.size());
  double worst = std::fabs(a.test_loss - b.test_loss);
  for (const auto& [step, loss] : a.train_loss) {
    if (!b.train_loss.count(step)) {
      ADD_FAILURE() << b_run << " has no step " << step;
      continue;
    }
    worst = std::max(worst, std::fabs(loss - b.train_loss.at(step)));
  }
  return {worst, max_param_diff(a_run / "model.safetensors", b_run / "model.safetensors")};
}

class TrainRanks : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!built_with_torch() || !have_mpirun()) return;
    setenv("OMP_NUM_THREADS", "1", 1);  // see test_cli_ckpt.cpp: spinning OpenMP threads
    tmp_ = new TempDir();
    const auto raw = (tmp_->path() / "s.jsonl.gz").string();
    ASSERT_EQ(sh(seller_bin() +
                 " data generate --set synthetic.users=120 --set synthetic.items=60"
                 " --set synthetic.mean_history=10 --output " +
                 raw)
                  .exit_code,
              0);
    ASSERT_EQ(
        sh(seller_bin() + " data prepare --format synthetic --input " + raw + " --output " + data())
            .exit_code,
        0);
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }
  void SetUp() override {
    if (!built_with_torch()) GTEST_SKIP() << "seller was built without LibTorch";
    if (!have_mpirun()) GTEST_SKIP() << "mpirun not found (OpenMPI: scripts/setup.sh installs it)";
  }
  static std::string data() { return (tmp_->path() / "data").string(); }
  static fs::path run(const std::string& name) { return tmp_->path() / "runs" / name; }
  static std::string args(const std::string& name, const std::string& extra) {
    return " train" + kTiny + " --set train.data=" + data() +
           " --set run.output_dir=" + (tmp_->path() / "runs").string() + " --set run.name=" + name +
           extra;
  }
  // Runs `command` in the background, sends SIGUSR1 once its output shows `pattern`, and returns
  // the output with "rc=<status>" appended. The signal goes to the command's own process (for
  // mpirun, which forwards it to every rank), so no `timeout` wrapper may sit in between.
  static CommandResult run_and_signal(const std::string& name, const std::string& command,
                                      const std::string& pattern) {
    const auto log = (tmp_->path() / (name + ".log")).string();
    const auto script = tmp_->path() / (name + ".sh");
    seller::testing::write_file(script, command + " > " + log + " 2>&1 &\nP=$!\n" +
                                            "while ! grep -q '" + pattern + "' " + log +
                                            "; do kill -0 $P 2>/dev/null || break; sleep 0.005; "
                                            "done\nkill -USR1 $P\nwait $P\necho rc=$?\ncat " +
                                            log + "\n");
    return sh("bash " + script.string());
  }
  // The uninterrupted 2-rank run (micro-batch 8) the fault tests compare with, made once.
  static bool reference_2_ranks() {
    static const bool ok = [] {
      const auto r = sh(mpirun(2) + seller_bin() + args("ref", " --set train.batch_size=8"));
      EXPECT_EQ(r.exit_code, 0) << r.output;
      return r.exit_code == 0;
    }();
    return ok;
  }
  static void expect_same_as_reference(const std::string& name) {
    EXPECT_EQ(seller::testing::read_file(run(name) / "model.safetensors"),
              seller::testing::read_file(run("ref") / "model.safetensors"))
        << name << ": final parameters differ from the uninterrupted 2-rank run";
    const auto a = read_log(run("ref")), b = read_log(run(name));
    for (const auto& [step, loss] : a.train_loss) {
      ASSERT_TRUE(b.train_loss.count(step)) << name << " step " << step;
      EXPECT_EQ(loss, b.train_loss.at(step)) << name << " step " << step;
    }
    EXPECT_EQ(a.test_loss, b.test_loss) << name;
  }
  static std::string mpirun_untimed(int np) {
    return "mpirun --allow-run-as-root --oversubscribe -np " + std::to_string(np) + " ";
  }
  static TempDir* tmp_;
};
TempDir* TrainRanks::tmp_ = nullptr;

}  // namespace
