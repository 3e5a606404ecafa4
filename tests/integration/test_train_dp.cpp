// Data-parallel `seller train` (task = seller) end to end: `mpirun -np N seller train` on CPU
// ranks (MPI backend) against the single-process run with grad_accum multiplied by N, which sees
// the same examples per optimizer step (trainer/train/train_dist.h). Dropout is off, so the
// only difference is the order of floating-point sums: every logged loss and every final
// parameter must agree within kTol. Also: a SIGUSR1 forwarded by mpirun makes both ranks save
// together and exit 143, and the same command resumes to byte-identical parameters; a last
// global micro-batch with fewer rows than ranks; and the launch errors (a backend that cannot
// serve the device, CPU ranks that are not MPI processes) are clear errors, not hangs.
#include "tests/integration/train_ranks_fixture.h"

namespace {

class TrainDp : public TrainRanks {};

TEST_F(TrainDp, RanksEqualOneProcessWithAccumulatedMicroBatches) {
  for (int np : {2, 4}) {
    SCOPED_TRACE("np " + std::to_string(np));
    const int micro = 16 / np;  // per-rank micro-batch; 16 examples per optimizer step in both
    const std::string one = "one" + std::to_string(np), dp = "dp" + std::to_string(np);
    const auto r1 =
        sh(seller_bin() + args(one, " --set train.batch_size=" + std::to_string(micro) +
                                        " --set train.grad_accum=" + std::to_string(np)));
    ASSERT_EQ(r1.exit_code, 0) << r1.output;
    const auto rn = sh(mpirun(np) + seller_bin() +
                       args(dp, " --set train.batch_size=" + std::to_string(micro)));
    ASSERT_EQ(rn.exit_code, 0) << rn.output;
    EXPECT_NE(rn.output.find("data parallel: " + std::to_string(np) + " ranks over mpi"),
              std::string::npos)
        << rn.output;
    // Rank 0 alone reports: one run line, one test line.
    EXPECT_EQ(rn.output.find("run: "), rn.output.rfind("run: ")) << rn.output;

    const auto a = read_log(run(one)), b = read_log(run(dp));
    ASSERT_EQ(a.train_loss.size(), b.train_loss.size());
    ASSERT_EQ(a.train_loss.size(), 94u / 5 + 1);  // 47 steps per epoch, a line every 5 and the last
    double worst = 0;
    for (const auto& [step, loss] : a.train_loss) {
      ASSERT_TRUE(b.train_loss.count(step)) << step;
      worst = std::max(worst, std::fabs(loss - b.train_loss.at(step)));
    }
    ASSERT_EQ(a.valid_loss.size(), b.valid_loss.size());
    for (size_t i = 0; i < a.valid_loss.size(); ++i)
      worst = std::max(worst, std::fabs(a.valid_loss[i] - b.valid_loss[i]));
    worst = std::max(worst, std::fabs(a.test_loss - b.test_loss));
    const double params =
        max_param_diff(run(one) / "model.safetensors", run(dp) / "model.safetensors");
    std::printf("[ MAXDIFF  ] dp%d vs 1 process x grad_accum %d: losses %.3g, parameters %.3g\n",
                np, np, worst, params);
    EXPECT_LE(worst, kTol);
    EXPECT_LE(params, kTol);
  }
}

TEST_F(TrainDp, Sigusr1SavesOnEveryRankAndTheSameCommandResumesBitExact) {
  const std::string extra = " --set train.batch_size=8";
  ASSERT_TRUE(reference_2_ranks());
  // mpirun forwards SIGUSR1 to every rank; the ranks agree on the step, save together, exit 143.
  const auto stopped =
      run_and_signal("sig", mpirun_untimed(2) + seller_bin() + args("sig", extra), "step 40/");
  EXPECT_NE(stopped.output.find("rc=143"), std::string::npos) << stopped.output;
  EXPECT_NE(stopped.output.find(": saved step"), std::string::npos) << stopped.output;
  const auto resumed = sh(mpirun(2) + seller_bin() + args("sig", extra));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  // The checkpoint holds both ranks' generator rows and one copy of the weights.
  const auto inspect = sh(seller_bin() + " ckpt inspect " +
                          (run("sig") / "checkpoints" / "step-000000094").string());
  EXPECT_NE(inspect.output.find("layout dp=2,tp=1,ep=1 (world 2), 2 chunk files"),
            std::string::npos)
      << inspect.output;
  expect_same_as_reference("sig");
}

// Slurm may signal one task before the others see theirs: SIGUSR1 raised inside rank 1 alone
// after step 40 (SELLER_FAULT=sigusr1-at-step, checkpoints/fault.h) must stop both ranks at the
// same step with one committed checkpoint, and the same command must end where the
// uninterrupted run ends.
TEST_F(TrainDp, Sigusr1OnOneRankStopsEveryRank) {
  const std::string extra = " --set train.batch_size=8";
  ASSERT_TRUE(reference_2_ranks());
  const auto stopped = sh("SELLER_FAULT=sigusr1-at-step@40 SELLER_FAULT_RANK=1 " + mpirun(2) +
                          seller_bin() + args("sig1", extra));
  EXPECT_EQ(stopped.exit_code, 143) << stopped.output;
  EXPECT_NE(stopped.output.find("signal 10: saved step 40 "), std::string::npos) << stopped.output;
  const auto resumed = sh(mpirun(2) + seller_bin() + args("sig1", extra));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  expect_same_as_reference("sig1");
}

// kill -9 of one rank: in mid-training (after the step-20 commit) and in mid-save (rank 1 dies
// right after writing its chunk of the step-20 checkpoint, while rank 0 waits to commit). mpirun
// takes the job down; the same command resumes from the newest committed checkpoint and ends
// byte-identical to the uninterrupted run.
TEST_F(TrainDp, KillNineOfOneRankResumesFromTheLastCommit) {
  ASSERT_TRUE(reference_2_ranks());
  const std::string extra = " --set train.batch_size=8";
  {
    const auto log = (tmp_->path() / "kill9.log").string();
    const auto script = tmp_->path() / "kill9.sh";
    seller::testing::write_file(
        script, mpirun_untimed(2) + seller_bin() + args("kill9", extra) + " > " + log +
                    " 2>&1 &\nP=$!\nwhile ! grep -q 'step 20 ->' " + log +
                    "; do kill -0 $P 2>/dev/null || break; sleep 0.005; done\n"
                    "pkill -9 -n -f 'run.name=kill9'\nwait $P\necho rc=$?\ncat " +
                    log + "\n");
    const auto killed = sh("bash " + script.string());
    EXPECT_EQ(killed.output.find("rc=0"), std::string::npos) << killed.output;
    const auto resumed = sh(mpirun(2) + seller_bin() + args("kill9", extra));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    expect_same_as_reference("kill9");
  }
  {
    const auto killed = sh("SELLER_FAULT=kill-after-chunk@2 SELLER_FAULT_RANK=1 " + mpirun(2) +
                           seller_bin() + args("killsave", extra));
    EXPECT_NE(killed.exit_code, 0) << killed.output;
    EXPECT_FALSE(fs::exists(run("killsave") / "checkpoints" / "step-000000020" / "COMMITTED"));
    const auto resumed = sh(mpirun(2) + seller_bin() + args("killsave", extra));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("step-000000010 at step 10"), std::string::npos)
        << resumed.output;
    expect_same_as_reference("killsave");
  }
}

// Resharding of a data-parallel run: the checkpoint of 2 ranks continues on 1 process with
// grad_accum 2, and the checkpoint of 1 process with grad_accum 4 on 4 ranks; both end where the
// uninterrupted run with the same global batch ends (same data order, same optimizer state).
TEST_F(TrainDp, CheckpointsResumeOnAnotherNumberOfRanks) {
  struct Case {
    std::string name;
    int before, after;  // ranks
  };
  for (const Case& c : {Case{"2to1", 2, 1}, Case{"1to4", 1, 4}}) {
    SCOPED_TRACE(c.name);
    const int global = 16;
    const int micro = c.before == 2 ? 8 : 4;  // per-rank micro-batch, the same before and after
    auto split = [&](int ranks) {             // the rest of the global batch by accumulation
      return " --set train.batch_size=" + std::to_string(micro) +
             " --set train.grad_accum=" + std::to_string(global / micro / ranks);
    };
    auto launch = [&](int ranks, bool timed) {
      if (ranks == 1) return seller_bin();
      return (timed ? mpirun(ranks) : mpirun_untimed(ranks)) + seller_bin();
    };
    const std::string ref = "ref-" + c.name, moved = "moved-" + c.name;
    const auto r = sh(launch(c.after, true) + args(ref, split(c.after)));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const auto stopped =
        run_and_signal(moved, launch(c.before, false) + args(moved, split(c.before)), "step 40/");
    EXPECT_NE(stopped.output.find("rc=143"), std::string::npos) << stopped.output;
    const auto resumed = sh(launch(c.after, true) + args(moved, split(c.after)));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    const double params =
        max_param_diff(run(ref) / "model.safetensors", run(moved) / "model.safetensors");
    const auto a = read_log(run(ref)), b = read_log(run(moved));
    double worst = std::fabs(a.test_loss - b.test_loss);
    for (const auto& [step, loss] : a.train_loss)
      if (b.train_loss.count(step))
        worst = std::max(worst, std::fabs(loss - b.train_loss.at(step)));
    std::printf(
        "[ MAXDIFF  ] %d ranks -> %d ranks vs uninterrupted %d: losses %.3g, parameters %.3g\n",
        c.before, c.after, c.after, worst, params);
    EXPECT_LE(worst, kTol);
    EXPECT_LE(params, kTol);
  }
}

// Expert parallel inside seller train (train.expert_parallel = 2): the adapter's 4 experts on 2
// ranks (ep2) and on 4 ranks as 2 data replicas of 2 expert ranks (dp2 x ep2). With a dropless
// MoE and no aux/z loss every token's expert output is independent of the other tokens, so the
// run equals one process with grad_accum = ranks; then a checkpoint of the ep2 run, stopped by
// SIGUSR1, resumes bit-exactly on ep2 and, resharded by reading rows, on one process.
TEST_F(TrainDp, ExpertParallelAdapterEqualsOneProcess) {
  const std::string moe_only =
      " --set adapter.dropless=true --set adapter.aux_loss_weight=0"
      " --set adapter.z_loss_weight=0";
  const std::string moe = moe_only + " --set train.batch_size=8";
  for (int np : {2, 4}) {
    SCOPED_TRACE("np " + std::to_string(np));
    // 16 rows per optimizer step, so that no step is partial (ranks split a partial step into
    // other micro-batches than accumulation does, and per-micro-batch means then differ).
    const std::string batch = moe_only + " --set train.batch_size=" + std::to_string(16 / np);
    const std::string one = "ep-one" + std::to_string(np), par = "ep-par" + std::to_string(np);
    const auto r1 =
        sh(seller_bin() + args(one, batch + " --set train.grad_accum=" + std::to_string(np)));
    ASSERT_EQ(r1.exit_code, 0) << r1.output;
    const auto rn =
        sh(mpirun(np) + seller_bin() + args(par, batch + " --set train.expert_parallel=2"));
    ASSERT_EQ(rn.exit_code, 0) << rn.output;
    EXPECT_NE(rn.output.find("expert parallel: 4 experts over groups of 2 ranks (2 each), " +
                             std::to_string(np / 2) + " data replica"),
              std::string::npos)
        << rn.output;
    const auto [worst, params] = compare_runs(run(one), run(par));
    std::printf(
        "[ MAXDIFF  ] ep2 x dp%d vs 1 process x grad_accum %d: losses %.3g, "
        "parameters %.3g\n",
        np / 2, np, worst, params);
    EXPECT_LE(worst, kTol);
    EXPECT_LE(params, kTol);
  }
  // Stop the ep2 run at step ~40; its checkpoint holds each rank's experts as row chunks.
  for (const std::string resume_on : {"ep2", "one"}) {
    SCOPED_TRACE("resume on " + resume_on);
    const std::string name = "ep-stop-" + resume_on;
    const auto stopped = run_and_signal(
        name, mpirun_untimed(2) + seller_bin() + args(name, moe + " --set train.expert_parallel=2"),
        "step 40/");
    EXPECT_NE(stopped.output.find("rc=143"), std::string::npos) << stopped.output;
    const auto latest = seller::testing::read_file(run(name) / "checkpoints" / "latest");
    const auto inspect =
        sh(seller_bin() + " ckpt inspect " +
           (run(name) / "checkpoints" / latest.substr(0, latest.find('\n'))).string());
    EXPECT_NE(inspect.output.find("layout dp=1,tp=1,ep=2 (world 2), 2 chunk files"),
              std::string::npos)
        << inspect.output;
    const bool ep2 = resume_on == "ep2";
    const auto resumed =
        ep2 ? sh(mpirun(2) + seller_bin() + args(name, moe + " --set train.expert_parallel=2"))
            : sh(seller_bin() + args(name, moe + " --set train.grad_accum=2"));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    if (ep2) {
      EXPECT_EQ(seller::testing::read_file(run(name) / "model.safetensors"),
                seller::testing::read_file(run("ep-par2") / "model.safetensors"))
          << "resumed ep2 run differs from the uninterrupted ep2 run";
    } else {
      const double params =
          max_param_diff(run("ep-one2") / "model.safetensors", run(name) / "model.safetensors");
      std::printf("[ MAXDIFF  ] ep2 checkpoint resumed on 1 process: parameters %.3g\n", params);
      EXPECT_LE(params, kTol);
    }
  }
}

// Resharding experts between expert-parallel sizes (issue: "ep 4 -> 2"): an ep4 run on 4 ranks
// (4-row micro-batches, 16 rows a step) stopped by SIGUSR1, resumed as ep2 on 2 ranks with
// grad_accum 2 (the same 4-row micro-batches, so the same per-micro-batch token means): each rank
// reads the rows of its 2 experts out of the 4 ep4 chunks. Compared with the ep4 run never
// stopped.
TEST_F(TrainDp, ExpertCheckpointMovesFromFourToTwoExpertRanks) {
  const std::string moe =
      " --set adapter.dropless=true --set adapter.aux_loss_weight=0"
      " --set adapter.z_loss_weight=0";
  const std::string ep4 = moe + " --set train.batch_size=4 --set train.expert_parallel=4";
  const auto ref = sh(mpirun(4) + seller_bin() + args("ep4-ref", ep4));
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  const auto stopped = run_and_signal(
      "ep4-to-ep2", mpirun_untimed(4) + seller_bin() + args("ep4-to-ep2", ep4), "step 40/");
  EXPECT_NE(stopped.output.find("rc=143"), std::string::npos) << stopped.output;
  const auto resumed =
      sh(mpirun(2) + seller_bin() +
         args("ep4-to-ep2", moe + " --set train.batch_size=4 --set train.grad_accum=2"
                                  " --set train.expert_parallel=2"));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
  const auto [losses, params] = compare_runs(run("ep4-ref"), run("ep4-to-ep2"));
  std::printf("[ MAXDIFF  ] ep4 checkpoint resumed on ep2: losses %.3g, parameters %.3g\n", losses,
              params);
  EXPECT_LE(losses, kTol);
  EXPECT_LE(params, kTol);
}

TEST_F(TrainDp, LastGlobalMicroBatchWithFewerRowsThanRanks) {
  // 753 pairs, 2 ranks x 8: the last global micro-batch of an epoch has one row, so rank 1 runs
  // a zero-weight step on a stand-in row to join the gradient all-reduce, and rank 0's row gets
  // the whole step's weight, as the one-row last step of one process with grad_accum 2 does.
  const std::string pairs = " --set seller.max_train_examples=753 --set train.batch_size=8";
  const auto one = sh(seller_bin() + args("uneven-one", pairs + " --set train.grad_accum=2"));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto r = sh(mpirun(2) + seller_bin() + args("uneven", pairs));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_FALSE(read_log(run("uneven")).train_loss.empty());
  EXPECT_EQ(read_log(run("uneven")).train_loss.rbegin()->first,
            2 * 48);  // ceil(753 / 16) per epoch
  const auto [worst, params] = compare_runs(run("uneven-one"), run("uneven"));
  std::printf(
      "[ MAXDIFF  ] uneven last micro-batch, dp2 vs 1 process: losses %.3g, "
      "parameters %.3g\n",
      worst, params);
  EXPECT_LE(worst, kTol);
  EXPECT_LE(params, kTol);
}

TEST_F(TrainDp, BackendsThatCannotServeTheLaunchAreClearErrors) {
  const auto nccl = sh(mpirun(2) + seller_bin() +
                       args("nccl-cpu", " --set train.batch_size=8 --set train.dist_backend=nccl"));
  EXPECT_NE(nccl.exit_code, 0);
  EXPECT_NE(nccl.output.find("train.dist_backend: nccl moves CUDA tensors"), std::string::npos)
      << nccl.output;
  // `seller launch` sets RANK/WORLD_SIZE but makes no MPI processes: CPU ranks cannot meet.
  const auto launched = sh("timeout 120 " + seller_bin() + " launch --nproc 2 -- " + seller_bin() +
                           args("launch-cpu", " --set train.batch_size=8"));
  EXPECT_NE(launched.exit_code, 0);
  EXPECT_NE(launched.output.find("mpi needs MPI processes"), std::string::npos) << launched.output;
  EXPECT_FALSE(fs::exists(run("launch-cpu") / "model.safetensors"));
}

}  // namespace
