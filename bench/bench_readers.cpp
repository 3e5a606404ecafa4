// Throughput of the record readers: MB/s of uncompressed input and records/s, on Amazon-like
// JSON lines it generates itself (a ~200 MB .json and the same as .json.gz, in a temp folder
// removed at exit) and on any files named on the command line. For reference it also times the
// bare line reader (I/O + gunzip only) and a nlohmann DOM parse of the same lines, which is what
// the SAX reader replaced. Prints the machine; never fails on time.
//
//   bench_readers [--mb N] [--repeat N] [--format amazon|amazon2023|xrec|s3rec|synthetic] [PATH...]
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/data/readers/reader.h"
#include "trainer/io/line_reader.h"

#include "bench/bench_machine.h"

namespace {

using seller::bench::cpu_model;
using seller::bench::thread_cpu_seconds;

namespace fs = std::filesystem;
using seller::data::InputFormat;

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// Amazon 2018-like review lines: the real key set and order, a style dict, text lengths with a
// long tail (median ~25 words as in the real 5-core files, some reviews of hundreds of words),
// escapes and a little non-ASCII.
std::string make_line(std::mt19937_64& rng) {
  static const char* kWords[] = {
      "great", "product", "price",   "works", "love",         "the",   "and", "it",    "is",
      "very",  "good",    "quality", "would", "buy",          "again", "not", "worth", "smell",
      "skin",  "hair",    "soft",    "café",  "\\\"best\\\"", "size",  "fit", "color", "small"};
  constexpr size_t kNumWords = sizeof(kWords) / sizeof(kWords[0]);
  std::uniform_int_distribution<size_t> word(0, kNumWords - 1);
  std::exponential_distribution<double> length(1.0 / 45.0);
  const auto id = [&](char first, int n) {
    static const char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    std::string s(1, first);
    for (int i = 0; i < n; ++i) s.push_back(kAlnum[rng() % 36]);
    return s;
  };
  std::string text;
  const size_t words = 3 + static_cast<size_t>(length(rng));
  for (size_t i = 0; i < words; ++i) {
    if (i) text += (i % 17 == 0) ? ".\\n" : " ";
    text += kWords[word(rng)];
  }
  const long seconds = 1100000000L + static_cast<long>(rng() % 430000000L);
  std::string line =
      "{\"overall\": " + std::to_string(1 + rng() % 5) +
      ".0, \"verified\": true, \"reviewTime\": \"09 1, 2016\", \"reviewerID\": \"" + id('A', 13) +
      "\", \"asin\": \"" + id('B', 9) +
      "\", \"style\": {\"Size:\": \" 7.0 oz\", \"Flavor:\": \" Classic Ice Blue\"}, "
      "\"reviewerName\": \"Shelly F\", \"reviewText\": \"" +
      text + "\", \"summary\": \"Five Stars\", \"unixReviewTime\": " + std::to_string(seconds) +
      "}\n";
  if (rng() % 10 == 0)
    line.insert(line.size() - 2,
                ", \"vote\": \"12\", \"image\": [\"https://images.example/x.jpg\"]");
  return line;
}

void generate(const fs::path& plain, const fs::path& gz, size_t target_bytes) {
  std::mt19937_64 rng(42);
  std::ofstream out(plain, std::ios::binary);
  gzFile z = gzopen(gz.c_str(), "wb1");
  if (!out || z == nullptr) throw std::runtime_error("cannot create " + plain.string());
  std::string chunk;
  size_t written = 0;
  while (written < target_bytes) {
    chunk.clear();
    while (chunk.size() < (1u << 20)) chunk += make_line(rng);
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    gzwrite(z, chunk.data(), static_cast<unsigned>(chunk.size()));
    written += chunk.size();
  }
  gzclose(z);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Timing {
  double wall = 1e30, cpu = 1e30;  // best of the repeats
};

template <class F>
Timing time_best(int repeat, F&& f) {
  Timing t;
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    const double cpu_start = thread_cpu_seconds();
    f();
    t.cpu = std::min(t.cpu, thread_cpu_seconds() - cpu_start);
    t.wall = std::min(t.wall, seconds_since(start));
  }
  return t;
}

void report(const char* what, const fs::path& path, uint64_t bytes, uint64_t records,
            const Timing& t) {
  std::printf("%-10s %-26s %7.1f MB %7.3f s %8.1f MB/s %9.0f rec/s | cpu %7.3f s %8.1f MB/s\n",
              what, path.filename().c_str(), bytes / 1e6, t.wall, bytes / 1e6 / t.wall,
              records / t.wall, t.cpu, bytes / 1e6 / t.cpu);
}

void bench_file(InputFormat format, const fs::path& path, int repeat, bool with_baselines) {
  seller::data::ReadStats stats;
  uint64_t checksum = 0;
  const Timing t = time_best(repeat, [&] {
    stats = seller::data::read_records(format, path, {},
                                       [&](const seller::data::Record& rec, const auto&) {
                                         checksum += rec.review.size() + rec.user.size();
                                       });
  });
  report(seller::data::format_name(format).data(), path, stats.bytes, stats.records, t);
  if (!with_baselines || fs::is_directory(path)) return;

  // The line reader alone: decompression and newline search, no parsing.
  uint64_t bytes = 0, lines = 0;
  const Timing t_lines = time_best(repeat, [&] {
    seller::io::LineReader reader(path);
    std::string_view line;
    while (reader.next(line)) {
    }
    bytes = reader.bytes_read();
    lines = reader.line_number();
  });
  report("lines-only", path, bytes, lines, t_lines);

  // nlohmann DOM per line (what the SAX path avoids), one pass.
  const Timing t_dom = time_best(1, [&] {
    seller::io::LineReader reader(path);
    std::string_view line;
    while (reader.next(line)) {
      const auto doc = nlohmann::json::parse(line.begin(), line.end());
      checksum += doc.at("reviewerID").get_ref<const std::string&>().size() +
                  doc.value("reviewText", std::string()).size();
    }
  });
  report("dom", path, bytes, lines, t_dom);
  if (checksum == 0) std::printf("(empty texts)\n");
}

}  // namespace

int main(int argc, char** argv) try {
  size_t mb = 200;
  int repeat = 2;
  InputFormat format = InputFormat::kAmazon;
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--mb" && i + 1 < argc) {
      mb = std::stoul(argv[++i]);
    } else if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::stoi(argv[++i]));
    } else if (arg == "--format" && i + 1 < argc) {
      format = seller::data::parse_input_format(argv[++i]);
    } else if (arg == "-h" || arg == "--help") {
      std::printf("usage: %s [--mb N] [--repeat N] [--format NAME] [PATH...]\n", argv[0]);
      return 0;
    } else {
      inputs.emplace_back(arg);
    }
  }
  std::printf("machine: %s, %u logical cores (one thread used)\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
  std::printf("wall: best of --repeat runs; cpu: this thread's CPU time (per-core speed)\n");
  for (const auto& input : inputs) bench_file(format, input, repeat, false);
  if (mb > 0) {
    const fs::path dir =
        fs::temp_directory_path() / ("seller-bench-readers-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{dir};
    const auto start = std::chrono::steady_clock::now();
    generate(dir / "amazon_like.json", dir / "amazon_like.json.gz", mb << 20);
    std::printf("(generated %zu MB of Amazon-like lines in %.1f s)\n", mb, seconds_since(start));
    bench_file(InputFormat::kAmazon, dir / "amazon_like.json", repeat, true);
    bench_file(InputFormat::kAmazon, dir / "amazon_like.json.gz", repeat, true);
  }
  std::printf("peak RSS: %.1f MB\n", peak_rss_mb());
  return 0;
} catch (const seller::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
