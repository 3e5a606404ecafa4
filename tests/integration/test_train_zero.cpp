// ZeRO-1 inside `seller train` (train.zero_stage = 1, trainer/train/optimizer_sharding.h) on 2
// CPU ranks (MPI): each rank keeps the AdamW state of its own parameters only, yet the run is
// the plain 2-rank run bit for bit (the same per-parameter arithmetic), and its checkpoints hold
// the whole optimizer state in the plain layout: a ZeRO run stopped by SIGUSR1 in one rank
// resumes without ZeRO, and a plain run resumes with it, both ending byte-identical to the
// uninterrupted run. ZeRO with expert or tensor parallelism is refused with a clear error.
#include <cstdio>
#include <regex>

#include "tests/integration/train_ranks_fixture.h"

namespace {

class TrainZero : public TrainRanks {};

const std::string kBatch = " --set train.batch_size=8";
const std::string kZero = " --set train.zero_stage=1";

TEST_F(TrainZero, Zero1EqualsPlainAdamWBitForBit) {
  ASSERT_TRUE(reference_2_ranks());
  const auto r = sh(mpirun(2) + seller_bin() + args("zero", kBatch + kZero));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // Rank 0 holds part of the state, not all of it.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.output, m, std::regex("ZeRO-1: rank 0 holds the AdamW state of (\\d+) of (\\d+)")))
      << r.output;
  const long long mine = std::stoll(m[1]), all = std::stoll(m[2]);
  std::printf("[ ZERO     ] rank 0 holds %lld of %lld optimizer-state elements\n", mine, all);
  EXPECT_GT(mine, 0);
  EXPECT_LT(mine, all);
  expect_same_as_reference("zero");
}

TEST_F(TrainZero, CheckpointsMoveBetweenZeroAndPlainRuns) {
  ASSERT_TRUE(reference_2_ranks());
  struct Case {
    std::string name, before, after;
  };
  for (const Case& c : {Case{"zero-to-plain", kZero, ""}, Case{"plain-to-zero", "", kZero}}) {
    SCOPED_TRACE(c.name);
    const auto stopped = sh("SELLER_FAULT=sigusr1-at-step@40 SELLER_FAULT_RANK=1 " + mpirun(2) +
                            seller_bin() + args(c.name, kBatch + c.before));
    EXPECT_EQ(stopped.exit_code, 143) << stopped.output;
    EXPECT_NE(stopped.output.find("signal 10: saved step 40 "), std::string::npos)
        << stopped.output;
    const auto resumed = sh(mpirun(2) + seller_bin() + args(c.name, kBatch + c.after));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    expect_same_as_reference(c.name);
  }
}

TEST_F(TrainZero, WithExpertParallelismIsAClearError) {
  const auto r = sh(mpirun(2) + seller_bin() +
                    args("zero-ep", kBatch + kZero + " --set train.expert_parallel=2"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("train.zero_stage = 1 shards the optimizer over data-parallel ranks "
                          "only: it needs train.expert_parallel = 1"),
            std::string::npos)
      << r.output;
  EXPECT_FALSE(fs::exists(run("zero-ep") / "model.safetensors"));
}

}  // namespace
