// SELLER_FAULT parsing and the injected failures (fault.h).
#include "checkpoints/fault.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "trainer/core/error.h"
#include "trainer/io/rank_env.h"

namespace seller::ckpt {
namespace {

std::atomic<int> g_saves{0};

struct Spec {
  std::string what;
  int save = 1;
};

Spec spec() {
  const char* env = std::getenv("SELLER_FAULT");
  Spec s;
  if (!env || !*env) return s;
  std::string text(env);
  const auto at = text.find('@');
  s.what = text.substr(0, at);
  if (at != std::string::npos) s.save = std::atoi(text.c_str() + at + 1);
  SELLER_THROW_IF_NOT(s.what == "kill-after-chunk" || s.what == "enospc" || s.what == "erofs" ||
                          s.what == "kill-before-commit" || s.what == "sigusr1-at-step",
                      ConfigError, "SELLER_FAULT = '", text,
                      "': expected kill-after-chunk, kill-before-commit, enospc or erofs, "
                      "optionally @<save number>, or sigusr1-at-step@<step>");
  return s;
}

// SELLER_FAULT_RANK, when set, names the one rank a fault applies to.
bool this_rank() {
  if (const char* only = std::getenv("SELLER_FAULT_RANK"); only && *only)
    return std::atoi(only) == dist::detect_rank_info().rank;
  return true;
}

}  // namespace

void fault_begin_save() { g_saves.fetch_add(1); }
int fault_saves_so_far() { return g_saves.load(); }

void fault_step(long long step) {
  const Spec s = spec();
  if (s.what == "sigusr1-at-step" && s.save == step && this_rank()) ::raise(SIGUSR1);
}

void fault_point(FaultPoint point, const std::filesystem::path& path) {
  const Spec s = spec();
  if (s.what.empty() || s.what == "sigusr1-at-step" || s.save != g_saves.load()) return;
  if (!this_rank()) return;
  if (point == FaultPoint::kBeforeMkdir && s.what == "erofs")
    throw DataError(detail::concat(path.string(), ": cannot create folder: ", std::strerror(EROFS),
                                   " (injected by SELLER_FAULT=erofs)"));
  if (point == FaultPoint::kBeforeChunk && s.what == "enospc")
    throw DataError(detail::concat(path.string(), ": write failed: ", std::strerror(ENOSPC),
                                   " (injected by SELLER_FAULT=enospc)"));
  if ((point == FaultPoint::kAfterChunk && s.what == "kill-after-chunk") ||
      (point == FaultPoint::kBeforeRename && s.what == "kill-before-commit")) {
    ::kill(::getpid(), SIGKILL);
    ::pause();
  }
}

}  // namespace seller::ckpt
