// Which rank this process is, read from the environment its launcher set. Sources, in order of
// precedence (the first one present wins; docs/launch.md explains why):
//
//   1. explicit (torchrun style, and `seller launch`): RANK, WORLD_SIZE, LOCAL_RANK,
//      LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT
//   2. MPI: OMPI_COMM_WORLD_RANK/_SIZE/_LOCAL_RANK/_LOCAL_SIZE (OpenMPI), else PMI_RANK/PMI_SIZE
//      (MPICH, Intel MPI), else PMIX_RANK (+ OMPI sizes)
//   3. Slurm, inside an srun step (SLURM_STEP_ID set): SLURM_PROCID, SLURM_STEP_NUM_TASKS (else
//      SLURM_NTASKS), SLURM_LOCALID, SLURM_STEP_TASKS_PER_NODE (else SLURM_NTASKS_PER_NODE),
//      master = the first host of SLURM_STEP_NODELIST (else SLURM_JOB_NODELIST / SLURM_NODELIST)
//   4. none: a single process (rank 0 of 1)
//
// MPI outranks Slurm because mpirun inside an sbatch script inherits the batch step's
// SLURM_PROCID=0 in every rank. MASTER_ADDR/MASTER_PORT from the environment override any
// source's default. Inconsistent values are errors naming the variables and their values: a rank
// outside [0, world), a local rank outside [0, local world), a half-set source (RANK without
// WORLD_SIZE), and RANK/WORLD_SIZE that disagree with the MPI launcher around them.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seller::dist {

enum class LaunchSource { kSingle, kExplicit, kMpi, kSlurm };
const char* source_name(LaunchSource source);

struct RankInfo {
  LaunchSource source = LaunchSource::kSingle;
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;
  std::string master_addr;  // empty: unknown (an MPI run over several nodes without MASTER_ADDR)
  uint16_t master_port = 0;
  std::string job_id;         // SLURM_JOB_ID or the MPI job's namespace, when known
  std::string master_origin;  // where master_addr/port came from, for messages

  // One line for logs: "rank 1/4 (local 1/2) from slurm, master node1:24817".
  std::string describe() const;
};

// Reads a variable; nullopt when unset. Tests pass a map instead of the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Detects the rank layout; throws seller::ConfigError naming the variables and their values.
RankInfo detect_rank_info(const EnvLookup& env = process_env());

// The first host name of a Slurm host list: "node[03-05,7],gpu1" -> "node03".
std::string first_slurm_host(std::string_view nodelist);

// Tasks on node `node_index` from a Slurm tasks-per-node list: "2(x3),1" -> 2, 2, 2, 1.
int slurm_tasks_on_node(std::string_view tasks_per_node, int node_index);

// The default master port when none is set: 20000 + a hash of `job` in [0, 20000), so two jobs
// on one machine rarely collide and every rank of one job computes the same port.
uint16_t default_master_port(std::string_view job);

}  // namespace seller::dist
