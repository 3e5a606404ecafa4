// `seller launch`'s process supervisor: starts N local copies of a command with the explicit
// rank environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// SELLER_STORE_TOKEN), prefixes every line they print with "[rank r] " (stdout to stdout, stderr
// to stderr), and waits. When one rank fails, or the launcher gets SIGINT/SIGTERM, every other
// rank gets SIGTERM, then SIGKILL after the grace period: a distributed job with a dead rank
// would otherwise hang in its next collective.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace seller::launch {

struct LocalLaunch {
  int nproc = 1;
  std::vector<std::string> command;  // argv; "seller" as argv[0] means this executable
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = 0;  // 0: a free port is picked
  std::string token;         // empty: a random one
  std::chrono::milliseconds grace{std::chrono::seconds(10)};
};

// Runs the ranks to completion. Returns 0 when all succeed, else the first failing rank's exit
// status (128 + signal number when it was killed by a signal).
int run_local_launch(LocalLaunch launch);

// A port on the loopback interface that was free a moment ago (bind to 0, read, release).
uint16_t pick_free_port();

// 32 hex digits from the system's random device.
std::string random_token();

}  // namespace seller::launch
