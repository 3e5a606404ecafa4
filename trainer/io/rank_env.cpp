// Rank detection from launcher environments (see rank_env.h for the sources and precedence).
// Every value is parsed strictly (digits only, within int range) and every error names the
// variable and its value, so a wrong launch line is fixed from the message alone.
#include "trainer/io/rank_env.h"

#include <charconv>
#include <cstdlib>

#include "trainer/core/error.h"

namespace seller::dist {
namespace {

constexpr uint16_t kTorchDefaultPort = 29500;

struct Reader {
  const EnvLookup& env;
  std::string origin;  // "explicit", "MPI", ... for messages

  std::optional<std::string> str(const std::string& name) const { return env(name); }

  std::optional<int> integer(const std::string& name) const {
    auto text = env(name);
    if (!text) return std::nullopt;
    int value = -1;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    SELLER_THROW_IF_NOT(!text->empty() && ec == std::errc() && ptr == end && value >= 0,
                        ConfigError, origin, " launch: ", name, " = '", *text,
                        "' is not a non-negative integer");
    return value;
  }

  int required(const std::string& name, const std::string& because) const {
    auto v = integer(name);
    SELLER_THROW_IF_NOT(v.has_value(), ConfigError, origin, " launch: ", because, " but ", name,
                        " is not set");
    return *v;
  }
};

void check_ranges(const RankInfo& info, const char* rank_var, const char* world_var,
                  const char* local_var, const char* local_world_var) {
  const char* src = source_name(info.source);
  SELLER_THROW_IF_NOT(info.world_size >= 1, ConfigError, src, " launch: ", world_var, " = ",
                      info.world_size, " must be at least 1");
  SELLER_THROW_IF_NOT(info.rank < info.world_size, ConfigError, src, " launch: ", rank_var, " = ",
                      info.rank, " is not below ", world_var, " = ", info.world_size);
  SELLER_THROW_IF_NOT(info.local_world_size >= 1 && info.local_world_size <= info.world_size,
                      ConfigError, src, " launch: ", local_world_var, " = ", info.local_world_size,
                      " must be in [1, ", world_var, " = ", info.world_size, "]");
  SELLER_THROW_IF_NOT(info.local_rank < info.local_world_size, ConfigError, src,
                      " launch: ", local_var, " = ", info.local_rank, " is not below ",
                      local_world_var, " = ", info.local_world_size);
}

// An explicit RANK/WORLD_SIZE inside an mpirun must agree with it: a stale `export RANK=0` in a
// shell would otherwise make every MPI rank claim to be rank 0.
void check_against_mpi(const RankInfo& info, const Reader& in) {
  const auto mpi_rank = in.integer("OMPI_COMM_WORLD_RANK");
  const auto mpi_size = in.integer("OMPI_COMM_WORLD_SIZE");
  SELLER_THROW_IF_NOT(!mpi_size || *mpi_size == info.world_size, ConfigError,
                      "launch sources disagree: WORLD_SIZE = ", info.world_size,
                      " but OMPI_COMM_WORLD_SIZE = ", *mpi_size,
                      " (unset RANK/WORLD_SIZE under mpirun, or make them match)");
  SELLER_THROW_IF_NOT(!mpi_rank || *mpi_rank == info.rank, ConfigError,
                      "launch sources disagree: RANK = ", info.rank,
                      " but OMPI_COMM_WORLD_RANK = ", *mpi_rank,
                      " (unset RANK/WORLD_SIZE under mpirun, or make them match)");
}

std::optional<RankInfo> from_explicit(const EnvLookup& env) {
  Reader in{env, "explicit"};
  const bool any = env("RANK") || env("WORLD_SIZE");
  if (!any) return std::nullopt;
  RankInfo info;
  info.source = LaunchSource::kExplicit;
  info.rank = in.required("RANK", "WORLD_SIZE is set");
  info.world_size = in.required("WORLD_SIZE", "RANK is set");
  info.local_rank = in.integer("LOCAL_RANK").value_or(info.rank);
  info.local_world_size = in.integer("LOCAL_WORLD_SIZE").value_or(info.world_size);
  check_ranges(info, "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE");
  check_against_mpi(info, in);
  info.master_origin = "default for one node";
  return info;
}

std::optional<RankInfo> from_mpi(const EnvLookup& env) {
  Reader in{env, "MPI"};
  RankInfo info;
  info.source = LaunchSource::kMpi;
  if (env("OMPI_COMM_WORLD_RANK") || env("OMPI_COMM_WORLD_SIZE")) {
    info.rank = in.required("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE is set");
    info.world_size = in.required("OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK is set");
    info.local_rank = in.integer("OMPI_COMM_WORLD_LOCAL_RANK").value_or(0);
    info.local_world_size = in.integer("OMPI_COMM_WORLD_LOCAL_SIZE").value_or(1);
    check_ranges(info, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                 "OMPI_COMM_WORLD_LOCAL_SIZE");
  } else if (env("PMI_RANK") || env("PMI_SIZE")) {
    info.rank = in.required("PMI_RANK", "PMI_SIZE is set");
    info.world_size = in.required("PMI_SIZE", "PMI_RANK is set");
    info.local_rank = in.integer("MPI_LOCALRANKID").value_or(0);
    info.local_world_size = in.integer("MPI_LOCALNRANKS").value_or(1);
    check_ranges(info, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS");
  } else if (env("PMIX_RANK") && env("PMIX_SIZE")) {
    info.rank = in.required("PMIX_RANK", "PMIX_SIZE is set");
    info.world_size = in.required("PMIX_SIZE", "PMIX_RANK is set");
    info.local_rank = in.integer("PMIX_LOCAL_RANK").value_or(0);
    info.local_world_size = in.integer("PMIX_LOCAL_SIZE").value_or(1);
    check_ranges(info, "PMIX_RANK", "PMIX_SIZE", "PMIX_LOCAL_RANK", "PMIX_LOCAL_SIZE");
  } else {
    return std::nullopt;
  }
  info.job_id = env("PMIX_NAMESPACE").value_or(env("OMPI_MCA_ess_base_jobid").value_or(""));
  info.master_origin = "default for one node";
  return info;
}

std::optional<RankInfo> from_slurm(const EnvLookup& env) {
  // Outside an srun step (the batch script itself) SLURM_PROCID is the batch step's 0 of N: taking
  // it would make a plain `seller train` in an sbatch script wait for N-1 ranks that never come.
  if (!env("SLURM_PROCID") || !(env("SLURM_STEP_ID") || env("SLURM_STEPID"))) return std::nullopt;
  Reader in{env, "Slurm"};
  RankInfo info;
  info.source = LaunchSource::kSlurm;
  info.rank = in.required("SLURM_PROCID", "this is an srun step");
  const char* world_var = env("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
  info.world_size = in.required(world_var, "SLURM_PROCID is set");
  info.local_rank = in.integer("SLURM_LOCALID").value_or(0);
  const char* per_node_var =
      env("SLURM_STEP_TASKS_PER_NODE") ? "SLURM_STEP_TASKS_PER_NODE" : "SLURM_TASKS_PER_NODE";
  if (auto per_node = env(per_node_var)) {
    const int node = in.integer("SLURM_NODEID").value_or(0);
    info.local_world_size = slurm_tasks_on_node(*per_node, node);
    SELLER_THROW_IF_NOT(info.local_world_size > 0, ConfigError, "Slurm launch: ", per_node_var,
                        " = '", *per_node, "' has no entry for SLURM_NODEID = ", node);
  } else {
    info.local_world_size = in.integer("SLURM_NTASKS_PER_NODE").value_or(info.world_size);
  }
  check_ranges(info, "SLURM_PROCID", world_var, "SLURM_LOCALID", per_node_var);
  info.job_id = env("SLURM_JOB_ID").value_or("") + "." +
                env("SLURM_STEP_ID").value_or(env("SLURM_STEPID").value_or(""));
  for (const char* var : {"SLURM_STEP_NODELIST", "SLURM_JOB_NODELIST", "SLURM_NODELIST"}) {
    if (auto list = env(var); list && !list->empty()) {
      info.master_addr = first_slurm_host(*list);
      info.master_origin = std::string("first host of ") + var;
      break;
    }
  }
  return info;
}

}  // namespace

const char* source_name(LaunchSource source) {
  switch (source) {
    case LaunchSource::kSingle:
      return "single";
    case LaunchSource::kExplicit:
      return "explicit";
    case LaunchSource::kMpi:
      return "mpi";
    case LaunchSource::kSlurm:
      return "slurm";
  }
  return "unknown";
}

std::string RankInfo::describe() const {
  return detail::concat("rank ", rank, "/", world_size, " (local ", local_rank, "/",
                        local_world_size, ") from ", source_name(source), ", master ",
                        master_addr.empty() ? "?" : master_addr, ":", master_port);
}

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

RankInfo detect_rank_info(const EnvLookup& env) {
  std::optional<RankInfo> found = from_explicit(env);
  if (!found) found = from_mpi(env);
  if (!found) found = from_slurm(env);
  RankInfo info = found.value_or(RankInfo{});
  if (!found) info.master_origin = "single process";
  // All ranks on one node: the loopback address is right and needs no configuration.
  if (info.master_addr.empty() && info.local_world_size == info.world_size)
    info.master_addr = "127.0.0.1";
  if (auto addr = env("MASTER_ADDR"); addr && !addr->empty()) {
    info.master_addr = *addr;
    info.master_origin = "MASTER_ADDR";
  }
  if (auto port_text = env("MASTER_PORT")) {
    Reader in{env, source_name(info.source)};
    const int port = *in.integer("MASTER_PORT");
    SELLER_THROW_IF_NOT(port >= 1 && port <= 65535, ConfigError, "MASTER_PORT = ", port,
                        " is not a TCP port in [1, 65535]");
    info.master_port = static_cast<uint16_t>(port);
  } else {
    info.master_port = info.job_id.empty() ? kTorchDefaultPort : default_master_port(info.job_id);
  }
  return info;
}

std::string first_slurm_host(std::string_view nodelist) {
  // Cut at the first comma outside brackets; expand the first range of the first bracket.
  std::string out;
  for (size_t i = 0; i < nodelist.size(); ++i) {
    const char c = nodelist[i];
    if (c == ',') break;
    if (c != '[') {
      out += c;
      continue;
    }
    const size_t close = nodelist.find(']', i);
    SELLER_THROW_IF_NOT(close != std::string_view::npos, ConfigError, "Slurm node list '", nodelist,
                        "' has an unclosed '['");
    std::string_view first = nodelist.substr(i + 1, close - i - 1);
    first = first.substr(0, first.find_first_of(",-"));
    out += first;  // keeps leading zeros: "node[01-04]" -> "node01"
    i = close;
  }
  SELLER_THROW_IF_NOT(!out.empty(), ConfigError, "Slurm node list '", nodelist, "' names no host");
  return out;
}

int slurm_tasks_on_node(std::string_view list, int node_index) {
  int node = 0;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    int tasks = 0, repeat = 1;
    const size_t paren = item.find("(x");
    auto parse = [&](std::string_view text, int& value) {
      auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      SELLER_THROW_IF_NOT(ec == std::errc() && ptr == text.data() + text.size() && value > 0,
                          ConfigError, "Slurm tasks-per-node entry '", item, "' is not N or N(xM)");
    };
    if (paren == std::string_view::npos) {
      parse(item, tasks);
    } else {
      SELLER_THROW_IF_NOT(item.back() == ')', ConfigError, "Slurm tasks-per-node entry '", item,
                          "' is not N or N(xM)");
      parse(item.substr(0, paren), tasks);
      parse(item.substr(paren + 2, item.size() - paren - 3), repeat);
    }
    if (node_index < node + repeat) return tasks;
    node += repeat;
  }
  return 0;
}

uint16_t default_master_port(std::string_view job) {
  uint32_t hash = 2166136261u;  // FNV-1a: stable across builds, unlike std::hash
  for (char c : job) hash = (hash ^ static_cast<unsigned char>(c)) * 16777619u;
  return static_cast<uint16_t>(20000 + hash % 20000);
}

}  // namespace seller::dist
