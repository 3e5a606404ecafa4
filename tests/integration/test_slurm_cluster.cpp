// A real single-node Slurm cluster (slurmctld, slurmd and munged from Debian's slurm-wlm and
// munge, on loopback, started by scripts/slurm/local_cluster.sh in a temp dir) running seller
// jobs: srun -n 2 and -n 4 of `seller rendezvous-check` (CPU tasks, oversubscribed on a 2-core
// machine), the slurm/train.sbatch template itself at 4 tasks, and the template's time-limit path
// (SIGUSR1 to the batch script, forwarded to the ranks, job requeued and run again).
//
// Without the Slurm binaries the tests skip with the reason, except in CI, where they fail; a
// cluster that does not start fails with the daemons' logs in the message.
// Data-parallel training through the template: `seller train` (task = seller, a tiny model) at 2
// and 4 CPU ranks with SELLER_LAUNCHER=mpirun (CPU ranks must be MPI processes); the job's log,
// metrics.jsonl (rank count, every step logged once) and a committed checkpoint written by both
// ranks together are checked.
#include <gtest/gtest.h>

#include <unistd.h>

#include <regex>
#include <set>
#include <string>

#include "tests/support/test_support.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

const std::string kScript = std::string(SELLER_SOURCE_DIR) + "/scripts/slurm/local_cluster.sh";
const std::string kTemplate = std::string(SELLER_SOURCE_DIR) + "/slurm/train.sbatch";

class SlurmCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* bin : {"slurmctld", "slurmd", "munged", "sbatch", "srun", "scontrol"}) {
      if (run_command(std::string("command -v ") + bin).exit_code != 0) {
        skip_reason_ = std::string(bin) + " not found (apt-get install slurm-wlm munge)";
        return;
      }
    }
    if (::geteuid() != 0) {
      skip_reason_ = "the test cluster's daemons run as root; this test runs as another user";
      return;
    }
    dir_ = new TempDir();
    const auto start = run_command(kScript + " start " + dir_->path().string() + " 4");
    if (start.exit_code != 0) start_error_ = start.output;
    started_ = start.exit_code == 0;
  }

  static void TearDownTestSuite() {
    if (dir_) {
      run_command(kScript + " stop " + dir_->path().string());
      delete dir_;
      dir_ = nullptr;
    }
  }

  void SetUp() override {
    if (!skip_reason_.empty()) {
      if (seller::testing::in_ci()) FAIL() << "Slurm test cannot run in CI: " << skip_reason_;
      GTEST_SKIP() << skip_reason_;
    }
    ASSERT_TRUE(started_) << "the local Slurm cluster did not start:\n" << start_error_;
  }

  // A shell prefix that points the Slurm commands at the test cluster.
  static std::string env() { return ". " + (dir_->path() / "env.sh").string() + "; "; }

  static std::string daemon_logs() {
    return run_command("tail -n 30 " + (dir_->path() / "slurmctld.log").string() + " " +
                       (dir_->path() / "slurmd.log").string())
        .output;
  }

  // `scontrol show job` fields of a finished job, e.g. "JobState=COMPLETED ExitCode=0:0".
  static std::string job_state(const std::string& id) {
    return run_command(env() + "scontrol show job " + id +
                       " | grep -oE '(JobState|ExitCode|Restarts)=[^ ]+' | tr '\\n' ' '")
        .output;
  }

  static std::string job_id(const std::string& sbatch_output) {
    std::smatch m;
    if (std::regex_search(sbatch_output, m, std::regex("(^|\\n)(\\d+)\\s*$"))) return m[2];
    return "";
  }

  static std::string read(const fs::path& p) {
    return fs::exists(p) ? seller::testing::read_file(p) : "<no log at " + p.string() + ">";
  }

  // Whether this build of seller has `seller train` (LibTorch found).
  static bool seller_trains() {
    return run_command(seller::testing::seller_binary() + " --version").output.find("torch=on") !=
           std::string::npos;
  }

  // A small prepared synthetic dataset for the training jobs, made once; "" on failure.
  static std::string dp_data() {
    static const std::string path = [] {
      const fs::path jobs = dir_->path() / "jobs";
      const auto bin = seller::testing::seller_binary();
      const auto raw = (jobs / "dp.jsonl.gz").string(), data = (jobs / "dp-data").string();
      const auto r = run_command("mkdir -p " + jobs.string() + " && " + bin +
                                 " data generate --set synthetic.users=80 --set synthetic.items=40"
                                 " --set synthetic.mean_history=8 --output " +
                                 raw + " && " + bin + " data prepare --format synthetic --input " +
                                 raw + " --output " + data);
      EXPECT_EQ(r.exit_code, 0) << r.output;
      return r.exit_code == 0 ? data : std::string();
    }();
    return path;
  }
  // `seller train` of the tiny SELLER model on dp_data() into jobs/<name>, one rank's batch 4.
  static std::string train_args(const std::string& name, const std::string& extra) {
    return "train" + std::string(seller::testing::tiny_seller_model_flags()) +
           " --set train.batch_size=4"
           " --set train.log_every=1 --set checkpoint.every_steps=5 --set train.data=" +
           dp_data() + " --set run.output_dir=" + (dir_->path() / "jobs").string() +
           " --set run.name=" + name + extra;
  }
  // Environment for an mpirun-launched job of the test cluster (jobs run as root, which mpirun
  // refuses unless told).
  static std::string mpirun_job_env(const std::string& bin) {
    return "SELLER=" + bin + " SELLER_LAUNCHER=mpirun OMPI_ALLOW_RUN_AS_ROOT=1" +
           " OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1";
  }

  static inline TempDir* dir_ = nullptr;
  static inline bool started_ = false;
  static inline std::string skip_reason_;
  static inline std::string start_error_;
};

// The "rendezvous-check ok" lines of `world` ranks in `log`: one per rank, all from Slurm, one
// blob hash shared by every rank.
void expect_check_lines(const std::string& log, int world) {
  const std::regex line("rendezvous-check ok: rank (\\d+)/" + std::to_string(world) +
                        " local \\d+/" + std::to_string(world) +
                        " source=slurm master=\\S+ host=\\S+ blob=([0-9a-f]{16})");
  std::set<int> ranks;
  std::set<std::string> blobs;
  for (std::sregex_iterator it(log.begin(), log.end(), line), end; it != end; ++it) {
    ranks.insert(std::stoi((*it)[1]));
    blobs.insert((*it)[2]);
  }
  EXPECT_EQ(ranks.size(), static_cast<size_t>(world)) << log;
  if (!ranks.empty()) {
    EXPECT_EQ(*ranks.rbegin(), world - 1) << log;
  }
  EXPECT_EQ(blobs.size(), 1u) << log;
}

TEST_F(SlurmCluster, SrunTwoAndFourRanksMeetThroughTheStore) {
  const fs::path script = dir_->path() / "jobs" / "check.sh";
  const fs::path log = dir_->path() / "jobs" / "check.out";
  seller::testing::write_file(
      script,
      "#!/bin/bash\n#SBATCH -n 4\nset -e\nexport SELLER_STORE_TOKEN=slurm-test-token\n"
      "srun -n 2 " +
          seller::testing::seller_binary() +
          " rendezvous-check --timeout 60\n"
          "srun -n 4 " +
          seller::testing::seller_binary() + " rendezvous-check --timeout 60\n");
  const auto r = run_command(env() + "timeout 300 sbatch --wait --parsable -o " + log.string() +
                             " " + script.string());
  const std::string text = read(log);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\njob log:\n" << text << "\n" << daemon_logs();
  expect_check_lines(text, 2);
  expect_check_lines(text, 4);
  const std::string state = job_state(job_id(r.output));
  EXPECT_NE(state.find("JobState=COMPLETED"), std::string::npos) << state;
  EXPECT_NE(state.find("ExitCode=0:0"), std::string::npos) << state;
}

TEST_F(SlurmCluster, TrainTemplateRunsOneTaskPerSlot) {
  const fs::path log = dir_->path() / "jobs" / "template.out";
  // --gpus-per-task=0 overrides the template's GPU request: this node has no GPUs.
  const auto r = run_command(env() + "cd " + SELLER_SOURCE_DIR +
                             " && SELLER=" + seller::testing::seller_binary() +
                             " SELLER_ARGS='rendezvous-check --timeout 60' timeout 300 sbatch "
                             "--wait --parsable --gpus-per-task=0 --ntasks-per-node=4 "
                             "--cpus-per-task=1 -o " +
                             log.string() + " " + kTemplate);
  const std::string text = read(log);
  ASSERT_EQ(r.exit_code, 0) << r.output << "\njob log:\n" << text << "\n" << daemon_logs();
  expect_check_lines(text, 4);
  EXPECT_NE(text.find("(restart 0) on "), std::string::npos) << text;
  EXPECT_NE(text.find("srun exited with status 0"), std::string::npos) << text;
  EXPECT_NE(job_state(job_id(r.output)).find("JobState=COMPLETED"), std::string::npos);
}

TEST_F(SlurmCluster, TemplateTrainsDataParallelOnCpuRanks) {
  if (!seller_trains()) GTEST_SKIP() << "seller was built without LibTorch";
  const fs::path jobs = dir_->path() / "jobs";
  const auto bin = seller::testing::seller_binary();
  const std::string data = dp_data();
  ASSERT_FALSE(data.empty());
  for (int n : {2, 4}) {
    SCOPED_TRACE(std::to_string(n) + " ranks");
    const std::string name = "dp" + std::to_string(n);
    const fs::path log = jobs / (name + ".out");
    const std::string args = train_args(name, " --set train.epochs=1 --set train.max_steps=12");
    const auto r = run_command(env() + "cd " + SELLER_SOURCE_DIR + " && " + mpirun_job_env(bin) +
                               " SELLER_ARGS='" + args +
                               "' timeout 300 sbatch --wait --parsable --gpus-per-task=0" +
                               " --ntasks-per-node=" + std::to_string(n) +
                               " --cpus-per-task=1 -o " + log.string() + " " + kTemplate);
    const std::string text = read(log);
    ASSERT_EQ(r.exit_code, 0) << r.output << "\njob log:\n" << text << "\n" << daemon_logs();
    EXPECT_NE(text.find("data parallel: " + std::to_string(n) + " ranks over mpi"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("mpirun exited with status 0"), std::string::npos) << text;
    const std::string metrics = read(jobs / name / "metrics.jsonl");
    EXPECT_NE(metrics.find("\"ranks\":" + std::to_string(n)), std::string::npos) << metrics;
    // One progress line per step (log_every 1), written by rank 0 only.
    size_t train_lines = 0;
    for (size_t at = 0; (at = metrics.find("\"event\":\"train\"", at)) != std::string::npos; ++at)
      ++train_lines;
    EXPECT_EQ(train_lines, 12u) << metrics;
    EXPECT_TRUE(fs::exists(jobs / name / "model.safetensors")) << text;
    const auto ckpt = jobs / name / "checkpoints" / "step-000000012";
    EXPECT_TRUE(fs::exists(ckpt / "COMMITTED")) << text;
    const auto inspect = run_command(bin + " ckpt inspect " + ckpt.string());
    EXPECT_NE(inspect.output.find("(world " + std::to_string(n) + "), " + std::to_string(n) +
                                  " chunk files"),
              std::string::npos)
        << inspect.output;
  }
}

TEST_F(SlurmCluster, TemplateCheckpointsAndRequeuesOnUsr1) {
  // A stand-in rank: waits for SIGUSR1 (the trainer will save a checkpoint there) on the first
  // run, and "resumes" on the requeued run.
  const fs::path task = dir_->path() / "jobs" / "task.sh";
  const fs::path log = dir_->path() / "jobs" / "requeue.out";
  seller::testing::write_file(
      task,
      "#!/bin/bash\n"
      "if [ \"${SLURM_RESTART_COUNT:-0}\" -ge 1 ]; then echo \"task $SLURM_PROCID resumed\"; "
      "exit 0; fi\n"
      "trap 'echo \"task $SLURM_PROCID got USR1\"; exit 0' USR1\n"
      "echo \"task $SLURM_PROCID started\"\n"
      "for i in $(seq 1200); do sleep 0.1; done\nexit 1\n");
  fs::permissions(task, fs::perms::owner_all, fs::perm_options::add);
  const auto submit =
      run_command(env() + "cd " + SELLER_SOURCE_DIR + " && SELLER=" + task.string() +
                  " SELLER_ARGS=' ' sbatch --parsable "
                  "--gpus-per-task=0 --ntasks-per-node=2 --cpus-per-task=1 -o " +
                  log.string() + " " + kTemplate);
  const std::string id = job_id(submit.output);
  ASSERT_FALSE(id.empty()) << submit.output;
  // Signal the batch script as --signal=B:USR1@120 would, once both ranks run; a requeued job
  // waits for its begin time (about 2 minutes): move it to now.
  const auto run = run_command(
      env() + "for i in $(seq 120); do [ \"$(grep -c started " + log.string() +
      " 2>/dev/null)\" = 2 ] && break; sleep 0.5; done; scancel --signal=USR1 --batch " + id +
      "; for i in $(seq 120); do scontrol show job " + id +
      " | grep -q 'Restarts=1' && scontrol update JobId=" + id +
      " StartTime=now 2>/dev/null; scontrol show job " + id +
      " | grep -q 'JobState=COMPLETED' && exit 0; sleep 1; done; exit 1");
  const std::string text = read(log);
  ASSERT_EQ(run.exit_code, 0) << "job " << id
                              << " did not complete after requeue: " << job_state(id) << "\n"
                              << text << "\n"
                              << daemon_logs();
  EXPECT_NE(text.find("SIGUSR1 before the time limit"), std::string::npos) << text;
  for (const char* line : {"task 0 got USR1", "task 1 got USR1", "task 0 resumed", "task 1 resumed",
                           "(restart 1) on "})
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing:\n" << text;
  EXPECT_NE(job_state(id).find("Restarts=1"), std::string::npos) << job_state(id);
}

// The time-limit path with real training: SIGUSR1 to the batch script while `seller train` runs
// on 2 CPU ranks; the ranks save together and exit 143, the job is requeued, the second run
// resumes by itself, and the final parameters equal an uninterrupted 2-rank run byte for byte.
TEST_F(SlurmCluster, TrainingJobRequeuedOnUsr1ResumesByItself) {
  if (!seller_trains()) GTEST_SKIP() << "seller was built without LibTorch";
  const fs::path jobs = dir_->path() / "jobs";
  const auto bin = seller::testing::seller_binary();
  ASSERT_FALSE(dp_data().empty());
  const std::string extra = " --set train.epochs=40 --set train.eval_every=40";
  const auto ref = run_command(
      "OMP_NUM_THREADS=1 timeout 300 mpirun --allow-run-as-root "
      "--oversubscribe -np 2 " +
      bin + " " + train_args("uninterrupted", extra));
  ASSERT_EQ(ref.exit_code, 0) << ref.output;
  const fs::path log = jobs / "train-requeue.out";
  const auto submit = run_command(env() + "cd " + SELLER_SOURCE_DIR + " && " + mpirun_job_env(bin) +
                                  " SELLER_ARGS='" + train_args("requeued", extra) +
                                  "' sbatch --parsable --gpus-per-task=0 --ntasks-per-node=2"
                                  " --cpus-per-task=1 -o " +
                                  log.string() + " " + kTemplate);
  const std::string id = job_id(submit.output);
  ASSERT_FALSE(id.empty()) << submit.output;
  const auto run =
      run_command(env() + "for i in $(seq 1200); do grep -q 'step 30/' " + log.string() +
                  " 2>/dev/null && break; sleep 0.05; done; scancel --signal=USR1 --batch " + id +
                  "; for i in $(seq 180); do scontrol show job " + id +
                  " | grep -q 'Restarts=1' && scontrol update JobId=" + id +
                  " StartTime=now 2>/dev/null; scontrol show job " + id +
                  " | grep -q 'JobState=COMPLETED' && exit 0; sleep 1; done; exit 1");
  const std::string text = read(log);
  ASSERT_EQ(run.exit_code, 0) << "job " << id
                              << " did not complete after requeue: " << job_state(id) << "\n"
                              << text << "\n"
                              << daemon_logs();
  for (const char* line : {"SIGUSR1 before the time limit", "signal 10: saved step",
                           "(restart 1) on ", "resumed from", "mpirun exited with status 0"})
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing:\n" << text;
  EXPECT_EQ(seller::testing::read_file(jobs / "requeued" / "model.safetensors"),
            seller::testing::read_file(jobs / "uninterrupted" / "model.safetensors"))
      << "the requeued job's final parameters differ from the uninterrupted run\n"
      << text;
}

}  // namespace
