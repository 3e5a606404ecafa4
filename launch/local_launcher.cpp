// Implementation of the local launcher (local_launcher.h). One thread: a poll() loop over every
// rank's stdout and stderr pipes, a non-blocking reap of exited ranks after each wake-up, and the
// termination state machine (SIGTERM to every live rank's process group, SIGKILL at the end of
// the grace period). Each rank runs in its own process group so that the signals also reach
// whatever it started itself.
#include "launch/local_launcher.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "trainer/core/error.h"

extern char** environ;

namespace seller::launch {
namespace {

volatile sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

struct Stream {
  int fd = -1;
  int out_fd = 1;       // where its lines go
  std::string partial;  // the bytes after the last newline
};

struct Rank {
  pid_t pid = -1;
  bool running = false;
  std::array<Stream, 2> streams;  // stdout, stderr
};

void write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // our own output is gone: nothing sensible left to do with the text
    done += static_cast<size_t>(n);
  }
}

// Forwards the complete lines in `stream`, each with the rank prefix; at EOF also the rest.
void forward(Stream& s, const std::string& prefix, bool eof) {
  std::string out;
  size_t start = 0;
  for (size_t nl; (nl = s.partial.find('\n', start)) != std::string::npos; start = nl + 1)
    out += prefix + s.partial.substr(start, nl + 1 - start);
  s.partial.erase(0, start);
  if (eof && !s.partial.empty()) {
    out += prefix + s.partial + "\n";
    s.partial.clear();
  }
  if (!out.empty()) write_all(s.out_fd, out);
}

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("seller") : path.string();
}

int exit_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
         strsignal(WTERMSIG(status)) + ")";
}

}  // namespace

uint16_t pick_free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  SELLER_THROW_IF_NOT(fd >= 0, Error, "seller launch: socket() failed: ", std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  SELLER_THROW_IF_NOT(ok, Error, "seller launch: cannot find a free port; pass --master-port");
  return ntohs(addr.sin_port);
}

std::string random_token() {
  std::random_device device;  // /dev/urandom on Linux
  static const char* kHex = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 8; ++i) {
    const uint32_t word = device();
    for (int nibble = 0; nibble < 8; ++nibble) token += kHex[(word >> (4 * nibble)) & 15];
  }
  return token;
}

int run_local_launch(LocalLaunch launch) {
  SELLER_THROW_IF_NOT(launch.nproc >= 1, ConfigError, "seller launch: --nproc = ", launch.nproc,
                      " must be at least 1");
  SELLER_THROW_IF_NOT(!launch.command.empty(), ConfigError,
                      "seller launch: no command after '--' (e.g. -- seller train --config x)");
  if (launch.master_port == 0) launch.master_port = pick_free_port();
  if (launch.token.empty()) launch.token = random_token();
  if (launch.command[0] == "seller") launch.command[0] = self_executable();

  // argv and the environment are built before fork: the child only dup2s and execs.
  std::vector<char*> argv;
  for (auto& arg : launch.command) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const std::vector<std::string> overridden = {
      "RANK=",        "WORLD_SIZE=",  "LOCAL_RANK=",        "LOCAL_WORLD_SIZE=",
      "MASTER_ADDR=", "MASTER_PORT=", "SELLER_STORE_TOKEN="};
  std::vector<std::string> inherited;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    bool drop = false;
    for (const auto& prefix : overridden) drop = drop || entry.rfind(prefix, 0) == 0;
    if (!drop) inherited.push_back(entry);
  }

  struct sigaction action {};
  action.sa_handler = on_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  std::vector<Rank> ranks(launch.nproc);
  for (int r = 0; r < launch.nproc; ++r) {
    std::vector<std::string> env = inherited;
    const std::string n = std::to_string(launch.nproc);
    for (const auto& kv :
         {"RANK=" + std::to_string(r), "WORLD_SIZE=" + n, "LOCAL_RANK=" + std::to_string(r),
          "LOCAL_WORLD_SIZE=" + n, "MASTER_ADDR=" + launch.master_addr,
          "MASTER_PORT=" + std::to_string(launch.master_port),
          "SELLER_STORE_TOKEN=" + launch.token})
      env.push_back(kv);
    std::vector<char*> envp;
    for (auto& kv : env) envp.push_back(kv.data());
    envp.push_back(nullptr);

    int out[2], err[2];
    SELLER_THROW_IF_NOT(::pipe2(out, O_CLOEXEC) == 0 && ::pipe2(err, O_CLOEXEC) == 0, Error,
                        "seller launch: pipe() failed: ", std::strerror(errno));
    const pid_t pid = ::fork();
    SELLER_THROW_IF_NOT(pid >= 0, Error, "seller launch: fork() failed for rank ", r, ": ",
                        std::strerror(errno));
    if (pid == 0) {
      ::setpgid(0, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execvpe(argv[0], argv.data(), envp.data());
      const std::string msg = std::string("seller launch: cannot run '") + argv[0] +
                              "': " + std::strerror(errno) + "\n";
      write_all(2, msg);
      ::_exit(127);
    }
    ::setpgid(pid, pid);  // also in the parent: no window in which a signal misses the group
    ::close(out[1]);
    ::close(err[1]);
    ranks[r].pid = pid;
    ranks[r].running = true;
    ranks[r].streams[0] = {out[0], 1, {}};
    ranks[r].streams[1] = {err[0], 2, {}};
  }

  int result = 0;
  bool terminating = false, killed = false;
  auto kill_deadline = std::chrono::steady_clock::now();
  auto all_exited_at = std::chrono::steady_clock::time_point::max();
  const auto terminate_all = [&](const std::string& why) {
    if (terminating) return;
    terminating = true;
    kill_deadline = std::chrono::steady_clock::now() + launch.grace;
    write_all(2, "seller launch: " + why + "; stopping the other ranks (SIGTERM, SIGKILL after " +
                     std::to_string(launch.grace.count()) + " ms)\n");
    for (const auto& rank : ranks)
      if (rank.running) ::kill(-rank.pid, SIGTERM);
  };

  while (true) {
    std::vector<pollfd> fds;
    std::vector<std::pair<int, int>> owner;  // (rank, stream) of each pollfd
    for (int r = 0; r < launch.nproc; ++r)
      for (int s = 0; s < 2; ++s)
        if (ranks[r].streams[s].fd >= 0) {
          fds.push_back({ranks[r].streams[s].fd, POLLIN, 0});
          owner.emplace_back(r, s);
        }
    const bool any_running =
        std::any_of(ranks.begin(), ranks.end(), [](const Rank& x) { return x.running; });
    // A rank's own children may keep its pipes open after it exits: drain for 2 s at most.
    if (fds.empty() && !any_running) break;
    if (!any_running && std::chrono::steady_clock::now() - all_exited_at > std::chrono::seconds(2))
      break;
    ::poll(fds.data(), fds.size(), 100);
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto [r, s] = owner[i];
      Stream& stream = ranks[r].streams[s];
      char buf[65536];
      const ssize_t n = ::read(stream.fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      const std::string prefix = "[rank " + std::to_string(r) + "] ";
      if (n <= 0) {
        forward(stream, prefix, true);
        ::close(stream.fd);
        stream.fd = -1;
      } else {
        stream.partial.append(buf, static_cast<size_t>(n));
        forward(stream, prefix, false);
      }
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      for (int r = 0; r < launch.nproc; ++r) {
        if (ranks[r].pid != pid) continue;
        ranks[r].running = false;
        const bool failed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        if (failed && !terminating) {
          result = exit_status(status);
          terminate_all("rank " + std::to_string(r) + " " + describe_status(status));
        }
      }
    }
    if (std::none_of(ranks.begin(), ranks.end(), [](const Rank& x) { return x.running; }) &&
        all_exited_at == std::chrono::steady_clock::time_point::max())
      all_exited_at = std::chrono::steady_clock::now();
    if (g_signal && !terminating) {
      result = 128 + g_signal;
      terminate_all(std::string("received ") + strsignal(g_signal));
    }
    if (terminating && !killed && std::chrono::steady_clock::now() >= kill_deadline) {
      killed = true;
      for (const auto& rank : ranks)
        if (rank.running) ::kill(-rank.pid, SIGKILL);
    }
  }
  for (auto& rank : ranks)
    for (auto& stream : rank.streams)
      if (stream.fd >= 0) ::close(stream.fd);
  return result;
}

}  // namespace seller::launch
