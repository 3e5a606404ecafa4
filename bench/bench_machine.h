// What every benchmark prints beside its figures: the CPU it ran on, and the CPU time of the
// calling thread (a per-core figure that stays meaningful on a shared machine, where wall time
// also counts other processes). Header-only: each bench_*.cpp is its own executable.
#pragma once

#include <time.h>

#include <fstream>
#include <string>

namespace seller::bench {

// The "model name" line of /proc/cpuinfo, or "unknown CPU".
inline std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// CPU seconds consumed so far by the calling thread.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace seller::bench
