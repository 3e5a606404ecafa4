// `seller launch` (start N local ranks of a command with the explicit rank environment, see
// local_launcher.h) and the hidden diagnostic `seller rendezvous-check`, which under any launcher
// (seller launch, mpirun, srun) detects this rank, meets the other ranks through the TCP store
// (rank 0 serves), shares a 128-byte blob the way the NCCL unique id will be shared, passes a
// barrier and prints one line:
//   rendezvous-check ok: rank 1/4 local 1/4 source=slurm master=node1:24817 host=node1 blob=<hash>
// Every rank prints the same blob hash, or the check fails.
#include <unistd.h>

#include <iostream>
#include <random>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "launch/local_launcher.h"
#include "trainer/core/error.h"
#include "trainer/io/rank_env.h"
#include "trainer/io/store_rendezvous.h"

namespace seller::launch {
namespace {

std::string hex64(uint64_t value) {
  static const char* kHex = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) out[i] = kHex[value & 15];
  return out;
}

uint64_t fnv1a(const std::string& bytes) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown-host";
  return buf;
}

struct CheckOptions {
  std::string token;
  double timeout_s = 60;
};

int rendezvous_check(const CheckOptions& options) {
  SELLER_THROW_IF_NOT(options.timeout_s > 0, ConfigError,
                      "rendezvous-check: --timeout = ", options.timeout_s, " must be positive");
  const auto info = dist::detect_rank_info();
  auto store_options = dist::store_options_from_env(options.token);
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.timeout_s * 1000));
  store_options.connect_timeout = timeout;
  dist::Rendezvous rv(info, store_options, timeout);

  const std::string me = host_name() + ":" + std::to_string(::getpid());
  rv.store().set("check/peer/" + std::to_string(info.rank), me);
  rv.barrier("check/start");

  // The NCCL unique id is an opaque 128-byte blob made by rank 0: share one the same way.
  std::string blob;
  if (info.rank == 0) {
    std::random_device device;
    blob.resize(128);
    for (auto& c : blob) c = static_cast<char>(device() & 0xff);
  }
  blob = rv.broadcast("check/unique-id", blob);
  SELLER_THROW_IF_NOT(blob.size() == 128, Error, "rendezvous-check: rank ", info.rank,
                      " received a blob of ", blob.size(), " bytes, expected 128");
  const std::string hash = hex64(fnv1a(blob));
  rv.store().set("check/hash/" + std::to_string(info.rank), hash);
  rv.barrier("check/hashes");
  for (int r = 0; r < info.world_size; ++r) {
    const std::string other = rv.store().get("check/hash/" + std::to_string(r), timeout);
    SELLER_THROW_IF_NOT(other == hash, Error, "rendezvous-check: rank ", r, " saw blob ", other,
                        " but rank ", info.rank, " saw ", hash);
    rv.store().get("check/peer/" + std::to_string(r), timeout);
  }
  rv.finish();
  std::cout << "rendezvous-check ok: rank " << info.rank << "/" << info.world_size << " local "
            << info.local_rank << "/" << info.local_world_size
            << " source=" << dist::source_name(info.source) << " master=" << info.master_addr << ":"
            << info.master_port << " host=" << host_name() << " blob=" << hash << std::endl;
  return kExitOk;
}

}  // namespace

void register_launch_commands(CLI::App& app, Runner& run) {
  auto launch = std::make_shared<LocalLaunch>();
  auto grace_s = std::make_shared<double>(10.0);
  CLI::App* cmd = app.add_subcommand(
      "launch", "start N local ranks of a command (RANK/WORLD_SIZE/MASTER_ADDR/... set)");
  cmd->footer(
      "Example: seller launch --nproc 4 -- seller train --config c.yaml\n"
      "'seller' after '--' is this executable. Every output line gets a '[rank r] ' prefix.\n"
      "When a rank fails the others get SIGTERM, then SIGKILL after --grace seconds, and launch\n"
      "exits with the failing rank's status. mpirun -np N and srun need no launch: each rank\n"
      "reads its place from their environment (docs/launch.md).");
  cmd->add_option("--nproc", launch->nproc, "number of ranks to start on this machine")
      ->required()
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--master-port", launch->master_port,
                  "port of rank 0's rendezvous store (default: a free port)");
  cmd->add_option("--master-addr", launch->master_addr, "address the ranks reach rank 0 at")
      ->capture_default_str();
  cmd->add_option("--token", launch->token,
                  "store token shared by the ranks (default: $SELLER_STORE_TOKEN, else random)");
  cmd->add_option("--grace", *grace_s, "seconds between SIGTERM and SIGKILL when stopping ranks")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("command", launch->command, "the command each rank runs (after --)")->required();
  cmd->callback([&run, launch, grace_s] {
    run = [launch, grace_s] {
      LocalLaunch l = *launch;
      if (l.token.empty())
        if (const char* env = std::getenv("SELLER_STORE_TOKEN"); env && *env) l.token = env;
      l.grace = std::chrono::milliseconds(static_cast<int64_t>(*grace_s * 1000));
      return run_local_launch(std::move(l));
    };
  });

  auto check = std::make_shared<CheckOptions>();
  CLI::App* diag = app.add_subcommand(
      "rendezvous-check", "meet every rank through the TCP store and print one line per rank");
  diag->group("");  // hidden: a diagnostic for launch set-ups, not a user command
  diag->add_option("--token", check->token, "store token (default: $SELLER_STORE_TOKEN)");
  diag->add_option("--timeout", check->timeout_s, "seconds to wait for the other ranks")
      ->capture_default_str();
  diag->callback([&run, check] { run = [check] { return rendezvous_check(*check); }; });
}

}  // namespace seller::launch
