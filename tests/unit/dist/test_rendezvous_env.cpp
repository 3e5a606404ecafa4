// Rank detection (trainer/io/rank_env.h) from each launcher's environment, the precedence between
// them, and the error cases: every error names the variable and the value that is wrong.
#include <gtest/gtest.h>

#include <map>

#include "trainer/core/error.h"
#include "trainer/io/rank_env.h"

namespace {
using seller::ConfigError;
using seller::dist::detect_rank_info;
using seller::dist::LaunchSource;
using seller::dist::RankInfo;
using Env = std::map<std::string, std::string>;

RankInfo detect(const Env& env) {
  return detect_rank_info([&env](const std::string& name) -> std::optional<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

// The message of the ConfigError that `env` causes, or a failure when it causes none.
std::string error_of(const Env& env) {
  try {
    detect(env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for this environment";
  return "";
}

TEST(RankEnv, NothingSetIsOneProcess) {
  const auto info = detect({});
  EXPECT_EQ(info.source, LaunchSource::kSingle);
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.world_size, 1);
  EXPECT_EQ(info.master_addr, "127.0.0.1");
  EXPECT_EQ(info.master_port, 29500);
}

TEST(RankEnv, ExplicitTorchrunStyle) {
  const auto info = detect({{"RANK", "3"},
                            {"WORLD_SIZE", "8"},
                            {"LOCAL_RANK", "1"},
                            {"LOCAL_WORLD_SIZE", "2"},
                            {"MASTER_ADDR", "node7"},
                            {"MASTER_PORT", "1234"}});
  EXPECT_EQ(info.source, LaunchSource::kExplicit);
  EXPECT_EQ(info.rank, 3);
  EXPECT_EQ(info.world_size, 8);
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 2);
  EXPECT_EQ(info.master_addr, "node7");
  EXPECT_EQ(info.master_port, 1234);
  EXPECT_EQ(info.master_origin, "MASTER_ADDR");
}

TEST(RankEnv, OpenMpi) {
  const auto info = detect({{"OMPI_COMM_WORLD_RANK", "1"},
                            {"OMPI_COMM_WORLD_SIZE", "4"},
                            {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                            {"OMPI_COMM_WORLD_LOCAL_SIZE", "4"},
                            {"PMIX_NAMESPACE", "prterun-vm-123@1"}});
  EXPECT_EQ(info.source, LaunchSource::kMpi);
  EXPECT_EQ(info.rank, 1);
  EXPECT_EQ(info.world_size, 4);
  EXPECT_EQ(info.local_world_size, 4);
  // All four ranks on one node: loopback, and a port every rank derives from the job alone.
  EXPECT_EQ(info.master_addr, "127.0.0.1");
  EXPECT_EQ(info.master_port, seller::dist::default_master_port("prterun-vm-123@1"));
  EXPECT_GE(info.master_port, 20000);
  EXPECT_LT(info.master_port, 40000);
}

TEST(RankEnv, MpiOverSeveralNodesNeedsMasterAddr) {
  const Env env{{"OMPI_COMM_WORLD_RANK", "0"},
                {"OMPI_COMM_WORLD_SIZE", "4"},
                {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}};
  EXPECT_EQ(detect(env).master_addr, "");  // Rendezvous refuses it, naming MASTER_ADDR
  Env with = env;
  with["MASTER_ADDR"] = "10.0.0.1";
  EXPECT_EQ(detect(with).master_addr, "10.0.0.1");
}

TEST(RankEnv, MpichPmi) {
  const auto info = detect({{"PMI_RANK", "2"}, {"PMI_SIZE", "3"}});
  EXPECT_EQ(info.source, LaunchSource::kMpi);
  EXPECT_EQ(info.rank, 2);
  EXPECT_EQ(info.world_size, 3);
}

TEST(RankEnv, SlurmStep) {
  const auto info = detect({{"SLURM_PROCID", "5"},
                            {"SLURM_STEP_ID", "0"},
                            {"SLURM_JOB_ID", "4711"},
                            {"SLURM_NTASKS", "8"},
                            {"SLURM_STEP_NUM_TASKS", "6"},
                            {"SLURM_LOCALID", "1"},
                            {"SLURM_NODEID", "2"},
                            {"SLURM_STEP_TASKS_PER_NODE", "2(x3)"},
                            {"SLURM_STEP_NODELIST", "gpu[07-09]"}});
  EXPECT_EQ(info.source, LaunchSource::kSlurm);
  EXPECT_EQ(info.rank, 5);
  EXPECT_EQ(info.world_size, 6);  // the step's task count, not the allocation's
  EXPECT_EQ(info.local_rank, 1);
  EXPECT_EQ(info.local_world_size, 2);
  EXPECT_EQ(info.master_addr, "gpu07");
  EXPECT_EQ(info.master_origin, "first host of SLURM_STEP_NODELIST");
  EXPECT_EQ(info.master_port, seller::dist::default_master_port("4711.0"));
  EXPECT_EQ(info.job_id, "4711.0");
}

TEST(RankEnv, SlurmBatchScriptWithoutStepIsOneProcess) {
  // The batch script itself has SLURM_PROCID=0 of SLURM_NTASKS=4 but no step: not a rank.
  const auto info = detect({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "4"}, {"SLURM_JOB_ID", "9"}});
  EXPECT_EQ(info.source, LaunchSource::kSingle);
  EXPECT_EQ(info.world_size, 1);
}

TEST(RankEnv, PrecedenceExplicitThenMpiThenSlurm) {
  const Env slurm{{"SLURM_PROCID", "0"}, {"SLURM_STEP_ID", "batch"}, {"SLURM_NTASKS", "1"}};
  Env mpi = slurm;
  mpi.insert({{"OMPI_COMM_WORLD_RANK", "1"}, {"OMPI_COMM_WORLD_SIZE", "2"}});
  // mpirun inside an sbatch script: every rank inherits SLURM_PROCID=0; MPI must win.
  EXPECT_EQ(detect(mpi).source, LaunchSource::kMpi);
  EXPECT_EQ(detect(mpi).rank, 1);
  Env both = slurm;
  both.insert({{"RANK", "2"}, {"WORLD_SIZE", "4"}});
  EXPECT_EQ(detect(both).source, LaunchSource::kExplicit);
  EXPECT_EQ(detect(both).rank, 2);
}

TEST(RankEnv, RankNotBelowWorldIsAnError) {
  const auto msg = error_of({{"RANK", "4"}, {"WORLD_SIZE", "4"}});
  EXPECT_NE(msg.find("RANK = 4"), std::string::npos) << msg;
  EXPECT_NE(msg.find("WORLD_SIZE = 4"), std::string::npos) << msg;
  const auto slurm =
      error_of({{"SLURM_PROCID", "3"}, {"SLURM_STEP_ID", "0"}, {"SLURM_NTASKS", "2"}});
  EXPECT_NE(slurm.find("SLURM_PROCID = 3"), std::string::npos) << slurm;
  EXPECT_NE(slurm.find("SLURM_NTASKS = 2"), std::string::npos) << slurm;
  const auto local = error_of({{"OMPI_COMM_WORLD_RANK", "0"},
                               {"OMPI_COMM_WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_LOCAL_RANK", "2"},
                               {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  EXPECT_NE(local.find("OMPI_COMM_WORLD_LOCAL_RANK = 2"), std::string::npos) << local;
}

TEST(RankEnv, HalfSetAndMalformedValuesAreErrors) {
  EXPECT_NE(error_of({{"RANK", "0"}}).find("WORLD_SIZE is not set"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "2"}}).find("RANK is not set"), std::string::npos);
  const auto bad = error_of({{"RANK", "0"}, {"WORLD_SIZE", "two"}});
  EXPECT_NE(bad.find("WORLD_SIZE = 'two'"), std::string::npos) << bad;
  EXPECT_NE(error_of({{"RANK", "-1"}, {"WORLD_SIZE", "2"}}).find("RANK = '-1'"), std::string::npos);
  EXPECT_NE(error_of({{"WORLD_SIZE", "0"}, {"RANK", "0"}}).find("WORLD_SIZE = 0"),
            std::string::npos);
  const auto port = error_of({{"MASTER_PORT", "70000"}});
  EXPECT_NE(port.find("MASTER_PORT = 70000"), std::string::npos) << port;
  EXPECT_NE(error_of({{"MASTER_PORT", "80a"}}).find("MASTER_PORT = '80a'"), std::string::npos);
}

TEST(RankEnv, ExplicitThatDisagreesWithMpirunIsAnError) {
  const auto world = error_of({{"RANK", "0"},
                               {"WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_RANK", "0"},
                               {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_NE(world.find("WORLD_SIZE = 4 but OMPI_COMM_WORLD_SIZE = 2"), std::string::npos) << world;
  const auto rank = error_of({{"RANK", "0"},
                              {"WORLD_SIZE", "2"},
                              {"OMPI_COMM_WORLD_RANK", "1"},
                              {"OMPI_COMM_WORLD_SIZE", "2"}});
  EXPECT_NE(rank.find("RANK = 0 but OMPI_COMM_WORLD_RANK = 1"), std::string::npos) << rank;
}

TEST(RankEnv, SlurmHostLists) {
  using seller::dist::first_slurm_host;
  EXPECT_EQ(first_slurm_host("vm"), "vm");
  EXPECT_EQ(first_slurm_host("node[03-05,7],gpu1"), "node03");
  EXPECT_EQ(first_slurm_host("a1,b[1-2]"), "a1");
  EXPECT_EQ(first_slurm_host("rack[2]-n[10-12]"), "rack2-n10");
  EXPECT_THROW(first_slurm_host("node[1-2"), ConfigError);
  EXPECT_THROW(first_slurm_host(""), ConfigError);
}

TEST(RankEnv, SlurmTasksPerNode) {
  using seller::dist::slurm_tasks_on_node;
  EXPECT_EQ(slurm_tasks_on_node("4", 0), 4);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 2), 2);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 3), 1);
  EXPECT_EQ(slurm_tasks_on_node("2(x3),1", 4), 0);
  EXPECT_THROW(slurm_tasks_on_node("2(x3", 0), ConfigError);
  EXPECT_THROW(slurm_tasks_on_node("x", 0), ConfigError);
  const auto msg = error_of({{"SLURM_PROCID", "0"},
                             {"SLURM_STEP_ID", "0"},
                             {"SLURM_NTASKS", "2"},
                             {"SLURM_NODEID", "5"},
                             {"SLURM_STEP_TASKS_PER_NODE", "2"}});
  EXPECT_NE(msg.find("SLURM_NODEID = 5"), std::string::npos) << msg;
}

}  // namespace
