// Throughput and peak memory of data preparation: (a) generating the synthetic dataset (records
// only, and written as normalised JSONL), (b) reading/parsing alone, (c) the whole
// `seller data prepare` (read + de-duplicate + external sort + shards), on synthetic datasets of
// several sizes (default 1M, 3M, 10M interactions) and on real files named on the command line.
// Every phase runs in a child process (this binary with --phase) so that each one's peak RSS
// (VmHWM) is its own; a flat peak RSS across sizes shows that memory does not grow with the
// input. Prints the machine and a markdown table; never fails on time.
//
//   bench_prepare [--sizes 1000000,3000000,10000000] [--work DIR] [--sort-mb 64] [--repeat N]
//                 [FORMAT:PATH ...]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/data/readers/reader.h"
#include "trainer/data/synthetic/synthetic.h"

#include "bench/bench_machine.h"

namespace {

using seller::bench::cpu_model;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace seller::data;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// User + system CPU seconds of this process so far. On a shared machine wall time includes
// waiting for a core; bytes per CPU second is the per-core throughput.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Wall and CPU seconds of one timed run.
struct Timer {
  Clock::time_point wall = Clock::now();
  double cpu = cpu_seconds();
  double wall_seconds() const { return seconds_since(wall); }
  double cpu_seconds_used() const { return cpu_seconds() - cpu; }
};

// A field of /proc/self/status or /proc/meminfo in kB ("VmHWM", "MemTotal"), 0 if absent.
uint64_t proc_kb(const char* file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0)
      return std::strtoull(line.c_str() + key.size() + 1, nullptr, 10);
  return 0;
}

// The synthetic dataset of about `interactions` interactions: 20 per user on average, one item
// per 50 interactions (so the catalog and the id maps grow with the size, as in real data).
SyntheticOptions synthetic_options(uint64_t interactions) {
  SyntheticOptions o;
  o.mean_history = 20;
  o.min_history = 5;
  o.users = (interactions + 19) / 20;
  o.items = interactions / 50 > 1000 ? interactions / 50 : 1000;
  o.seed = 7;
  return o;
}

// ---- child phases: each prints one line "records=.. bytes=.. seconds=.. cpu=.. hwm_kb=.." ----

void report(uint64_t records, uint64_t bytes, double seconds, double cpu) {
  std::printf("records=%llu bytes=%llu seconds=%.6f cpu=%.6f hwm_kb=%llu\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(bytes),
              seconds, cpu, static_cast<unsigned long long>(proc_kb("/proc/self/status", "VmHWM")));
}

int phase_generate(uint64_t interactions) {
  uint64_t bytes = 0;
  const Timer timer;
  const SyntheticStats s = generate_synthetic(
      synthetic_options(interactions), [&](const Record& r, const SourcePosition&) {
        bytes += r.review.size() + r.title.size() + r.description.size();  // keeps the work live
      });
  if (bytes == 0) return 1;
  report(s.interactions, 0, timer.wall_seconds(), timer.cpu_seconds_used());  // no JSON: no MB
  return 0;
}

int phase_write(uint64_t interactions, const fs::path& out) {
  const Timer timer;
  const SyntheticStats s = write_synthetic_jsonl(synthetic_options(interactions), out);
  report(s.interactions, fs::file_size(out), timer.wall_seconds(), timer.cpu_seconds_used());
  return 0;
}

// Best of `repeat` runs (small real files are read in milliseconds).
int phase_read(const std::string& format, const fs::path& input, int repeat) {
  double best = 1e300, best_cpu = 0;
  ReadStats stats;
  for (int r = 0; r < repeat; ++r) {
    uint64_t sink_bytes = 0;
    const Timer timer;
    stats = read_records(
        parse_input_format(format), input, ReadOptions{},
        [&](const Record& rec, const SourcePosition&) { sink_bytes += rec.review.size(); });
    if (timer.wall_seconds() < best)
      best = timer.wall_seconds(), best_cpu = timer.cpu_seconds_used();
    if (sink_bytes == 0 && stats.records == 0) return 1;
  }
  report(stats.records, stats.bytes, best, best_cpu);
  return 0;
}

int phase_prepare(const std::string& format, const fs::path& input, const fs::path& out,
                  uint64_t sort_mb, int repeat) {
  double best = 1e300, best_cpu = 0;
  ReadStats read_stats;
  PrepareStats stats;
  PrepareOptions options;
  options.sort_memory_bytes = sort_mb << 20;
  options.source_format = format;
  options.source_files = {input.string()};
  for (int r = 0; r < repeat; ++r) {
    const Timer timer;
    stats = prepare_dataset(
        [&](const RecordSink& sink) {
          read_stats = read_records(parse_input_format(format), input, ReadOptions{}, sink);
        },
        options, out);
    if (timer.wall_seconds() < best)
      best = timer.wall_seconds(), best_cpu = timer.cpu_seconds_used();
  }
  std::fprintf(stderr, "prepared %s: %llu users, %llu items, %llu interactions, %llu sort runs\n",
               input.filename().c_str(), static_cast<unsigned long long>(stats.users),
               static_cast<unsigned long long>(stats.items),
               static_cast<unsigned long long>(stats.interactions),
               static_cast<unsigned long long>(stats.sort_runs));
  report(read_stats.records, read_stats.bytes, best, best_cpu);
  return 0;
}

int run_phase(const std::vector<std::string>& a) {
  const std::string& phase = a.at(0);
  if (phase == "generate") return phase_generate(std::stoull(a.at(1)));
  if (phase == "write") return phase_write(std::stoull(a.at(1)), a.at(2));
  if (phase == "read") return phase_read(a.at(1), a.at(2), std::stoi(a.at(3)));
  if (phase == "prepare")
    return phase_prepare(a.at(1), a.at(2), a.at(3), std::stoull(a.at(4)), std::stoi(a.at(5)));
  std::cerr << "unknown phase " << phase << "\n";
  return 2;
}

// ---- parent: runs the phases as children and prints the table ---------------------------

struct Result {
  uint64_t records = 0, bytes = 0, hwm_kb = 0;
  double seconds = 0, cpu = 0;
};

std::string self_path() { return fs::read_symlink("/proc/self/exe").string(); }

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Result run_child(const std::vector<std::string>& args) {
  std::string command = quote(self_path()) + " --phase";
  for (const auto& arg : args) command += " " + quote(arg);
  std::fflush(stdout);
  FILE* pipe = popen(command.c_str(), "r");
  SELLER_CHECK(pipe != nullptr, "popen failed: ", command);
  char line[512];
  Result r;
  bool found = false;
  while (std::fgets(line, sizeof line, pipe)) {
    unsigned long long records = 0, bytes = 0, hwm = 0;
    if (std::sscanf(line, "records=%llu bytes=%llu seconds=%lf cpu=%lf hwm_kb=%llu", &records,
                    &bytes, &r.seconds, &r.cpu, &hwm) == 5) {
      r.records = records, r.bytes = bytes, r.hwm_kb = hwm, found = true;
    }
  }
  const int status = pclose(pipe);
  if (status != 0 || !found) throw seller::Error("phase failed: " + command);
  return r;
}

struct Row {
  std::string phase, input;
  Result r;
};

std::string fixed(double value, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return buf;
}

void print_row(const Row& row) {
  const double mb = static_cast<double>(row.r.bytes) / 1e6;
  const bool json = row.r.bytes > 0;
  std::printf("| %-26s | %-30s | %10llu | %7s | %7.2f | %7.2f | %7s | %8s | %9.0f | %7.0f |\n",
              row.phase.c_str(), row.input.c_str(), static_cast<unsigned long long>(row.r.records),
              json ? fixed(mb, 1).c_str() : "-", row.r.seconds, row.r.cpu,
              json ? fixed(mb / row.r.seconds, 1).c_str() : "-",
              json ? fixed(mb / row.r.cpu, 1).c_str() : "-",
              static_cast<double>(row.r.records) / row.r.seconds,
              static_cast<double>(row.r.hwm_kb) / 1024.0);
  std::fflush(stdout);
}

std::vector<uint64_t> parse_sizes(const std::string& text) {
  std::vector<uint64_t> sizes;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) sizes.push_back(std::stoull(item));
  return sizes;
}

std::string millions(uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gM", static_cast<double>(n) / 1e6);
  return buf;
}

int run_bench(int argc, char** argv) {
  std::vector<uint64_t> sizes = {1000000, 3000000, 10000000};
  fs::path work = fs::temp_directory_path() / ("seller-bench-prepare-" + std::to_string(getpid()));
  uint64_t sort_mb = 64;
  int repeat = 5;
  std::vector<std::pair<std::string, std::string>> real;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--sizes" && i + 1 < argc)
      sizes = parse_sizes(argv[++i]);
    else if (arg == "--work" && i + 1 < argc)
      work = argv[++i];
    else if (arg == "--sort-mb" && i + 1 < argc)
      sort_mb = std::stoull(argv[++i]);
    else if (arg == "--repeat" && i + 1 < argc)
      repeat = std::stoi(argv[++i]);
    else if (arg.find(':') != std::string::npos && arg[0] != '-')
      real.emplace_back(arg.substr(0, arg.find(':')), arg.substr(arg.find(':') + 1));
    else {
      std::cerr << "usage: bench_prepare [--sizes N,N,..] [--work DIR] [--sort-mb MB] "
                   "[--repeat N] [FORMAT:PATH ...]\n";
      return 2;
    }
  }
  fs::create_directories(work);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf("machine: %s, %u hardware threads, %.1f GiB RAM, load average %.2f at start\n",
              cpu_model().c_str(), std::thread::hardware_concurrency(),
              static_cast<double>(proc_kb("/proc/meminfo", "MemTotal")) / (1024.0 * 1024.0),
              load[0]);
  std::printf(
      "prepare: sort memory %llu MiB per run; synthetic: 20 interactions/user, "
      "1 item per 50 interactions, seed 7, uncompressed JSONL\n",
      static_cast<unsigned long long>(sort_mb));
  std::printf(
      "MB = 10^6 bytes of uncompressed JSON (written for generation, read otherwise); "
      "MB/CPU-s = per-core throughput (user+sys time); records/s on wall time; "
      "RSS = peak (VmHWM) of the phase's own process; real files: best of %d runs\n\n",
      repeat);
  std::printf("| %-26s | %-30s | %10s | %7s | %7s | %7s | %7s | %8s | %9s | %7s |\n", "phase",
              "input", "records", "MB", "wall s", "CPU s", "MB/s", "MB/CPU-s", "records/s",
              "RSS MiB");
  std::printf(
      "|----------------------------|--------------------------------|------------|"
      "---------|---------|---------|---------|----------|-----------|---------|\n");

  const uint64_t largest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  for (const uint64_t n : sizes) {
    const std::string name = "synthetic " + millions(n);
    const fs::path jsonl = work / ("synthetic-" + std::to_string(n) + ".jsonl");
    const fs::path out = work / ("prepared-" + std::to_string(n));
    if (n == largest)
      print_row({"(a) generate records", name, run_child({"generate", std::to_string(n)})});
    print_row({"(a) generate + write JSONL", name, run_child({"write", std::to_string(n), jsonl})});
    if (n == largest)
      print_row({"(b) read + parse", name, run_child({"read", "synthetic", jsonl, "1"})});
    print_row({"(c) prepare (read+shards)", name,
               run_child({"prepare", "synthetic", jsonl, out, std::to_string(sort_mb), "1"})});
    fs::remove_all(out);
    fs::remove(jsonl);
  }
  for (const auto& [format, path] : real) {
    const std::string name = format + ":" + fs::path(path).filename().string();
    print_row(
        {"(b) read + parse", name, run_child({"read", format, path, std::to_string(repeat)})});
    const fs::path out = work / "prepared-real";
    print_row({"(c) prepare (read+shards)", name,
               run_child({"prepare", format, path, out, std::to_string(sort_mb),
                          std::to_string(repeat)})});
    fs::remove_all(out);
  }
  fs::remove_all(work);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc >= 3 && std::string(argv[1]) == "--phase")
      return run_phase(std::vector<std::string>(argv + 2, argv + argc));
    return run_bench(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_prepare: " << e.what() << "\n";
    return 1;
  }
}
