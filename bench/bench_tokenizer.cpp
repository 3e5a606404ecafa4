// Tokenizer throughput: encodes every Amazon review text of the shared data (see
// tests/unit/text/review_texts.h) with each shared tokenizer, one thread, first with an empty
// word cache and then again with a warm one, and runs the reference Python library on the same
// texts in the same run (scripts/oracles/tokenizer_oracle.py --time: a single-threaded loop of
// encode()). Prints the machine; figures use thread CPU time, which stays meaningful on a shared
// machine, beside wall time. Never fails on time.
// usage: bench_tokenizer [--shared DIR] [--python PY]   (defaults: $SELLER_SHARED_DIR or
//        <source>/../shared; $SELLER_PYTHON or <source>/.venv/bin/python; no Python: C++ only)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/text/review_texts.h"
#include "trainer/text/tokenizer.h"

#include "bench/bench_machine.h"

namespace {

using seller::bench::cpu_model;
using seller::bench::thread_cpu_seconds;

namespace fs = std::filesystem;

struct Pass {
  double wall = 0, cpu = 0;
  size_t tokens = 0;
};

Pass encode_all(const seller::text::Tokenizer& tok, const std::vector<std::string>& texts) {
  Pass p;
  const auto start = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu_seconds();
  for (const auto& t : texts) p.tokens += tok.encode(t, false).size();
  p.cpu = thread_cpu_seconds() - cpu0;
  p.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path source = fs::path(__FILE__).parent_path().parent_path();
  fs::path shared = std::getenv("SELLER_SHARED_DIR") ? fs::path(std::getenv("SELLER_SHARED_DIR"))
                                                     : source.parent_path() / "shared";
  std::string python = std::getenv("SELLER_PYTHON") ? std::getenv("SELLER_PYTHON")
                                                    : (source / ".venv/bin/python").string();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--shared") shared = argv[i + 1];
    if (a == "--python") python = argv[i + 1];
  }
  if (!fs::exists(shared / "data")) {
    std::fprintf(stderr, "bench_tokenizer: no shared data under %s (use --shared)\n",
                 shared.c_str());
    return 2;
  }
  const auto texts = seller::text::testing::load_review_texts(shared / "data").texts;
  size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  std::printf("machine: %s, %u logical cores (one thread used)\n", cpu_model().c_str(),
              std::thread::hardware_concurrency());
  std::printf("texts: %zu Amazon review texts, %.1f MB\n", texts.size(), bytes / 1e6);

  const fs::path tmp = fs::temp_directory_path() / ("bench_tokenizer_" + std::to_string(getpid()));
  fs::create_directories(tmp);
  {
    std::ofstream f(tmp / "texts.jsonl", std::ios::binary);
    for (const auto& t : texts) f << nlohmann::json{{"text", t}}.dump() << "\n";
  }
  const bool have_python = fs::exists(python);
  std::printf("\n%-32s %12s %12s %12s %14s\n", "tokenizer", "tokens", "cold Mtok/s",
              "warm Mtok/s", "python Mtok/s");
  for (const std::string rel : {"models/qwen3-tokenizer", "models/gpt2-bpe",
                                "models/stories260K-hf", "models/stories260K/tok512.model"}) {
    const fs::path path = shared / rel;
    if (!fs::exists(path)) continue;
    std::unique_ptr<seller::text::Tokenizer> tok;
    try {
      tok = seller::text::Tokenizer::load(path);
    } catch (const std::exception& e) {
      std::printf("%-32s skipped: %s\n", rel.c_str(), e.what());
      continue;
    }
    const Pass cold = encode_all(*tok, texts);
    const Pass warm = encode_all(*tok, texts);
    std::string py = "n/a";
    if (have_python) {
      const std::string cmd = "'" + python + "' '" +
                              (source / "scripts/oracles/tokenizer_oracle.py").string() + "' '" +
                              path.string() + "' '" + (tmp / "texts.jsonl").string() + "' '" +
                              (tmp / "ids.jsonl").string() + "' --no-special --time 2>/dev/null";
      if (FILE* pipe = popen(cmd.c_str(), "r")) {
        std::string out;
        char buf[512];
        while (fgets(buf, sizeof buf, pipe)) out += buf;
        if (pclose(pipe) == 0) {
          const auto j = nlohmann::json::parse(out);
          char cell[96];
          std::snprintf(cell, sizeof cell, "%.2f (%s %s)",
                        j["tokens"].get<double>() / j["cpu_seconds"].get<double>() / 1e6,
                        j["library"].get<std::string>().c_str(),
                        j["version"].get<std::string>().c_str());
          py = cell;
        }
      }
    }
    std::printf("%-32s %12zu %12.2f %12.2f %14s\n", rel.c_str(), cold.tokens,
                cold.tokens / cold.cpu / 1e6, warm.tokens / warm.cpu / 1e6, py.c_str());
    std::printf("%-32s %12s %12.2f %12.2f   (wall clock, same runs)\n", "", "",
                cold.tokens / cold.wall / 1e6, warm.tokens / warm.wall / 1e6);
  }
  fs::remove_all(tmp);
  return 0;
}
