// Token-authenticated key-value store over TCP (Boost.Asio), used at start-up to share small
// blobs among ranks (the NCCL unique id) when MPI is not used, and to build barriers.
//
// StoreServer runs on one rank (rank 0, at MASTER_ADDR:MASTER_PORT) on its own thread; every
// rank, rank 0 included, talks to it through a StoreClient. Protocol: store_protocol.h.
//
// Security: the first frame of every connection must be a hello carrying the shared token; it is
// compared in constant time, and a connection that fails (wrong token, another op first, garbage,
// or silence past the handshake timeout) gets one error frame, is closed and is logged with the
// peer's address. The token stops strangers on the network from reading or forging rendezvous
// data; it is not encryption (use it on a trusted cluster network).
//
// Bounds: keys up to 4 KiB, values up to 64 MiB (longer frames are refused from their header,
// before any allocation); a started frame must arrive within io_timeout; get/wait block on the
// server (no polling) until the key exists or their timeout ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "trainer/core/error.h"

namespace seller::dist {

// A store operation that timed out (get or wait on a missing key, a connect, a slow peer).
class StoreTimeout : public Error {
 public:
  using Error::Error;
};

// Where refusals and other server events go; the default writes one line to stderr.
using StoreLog = std::function<void(const std::string& line)>;

struct StoreOptions {
  std::string token;  // required: an empty token is rejected when a server or client is built
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(60)};    // client: retry window
  std::chrono::milliseconds io_timeout{std::chrono::seconds(30)};         // one frame, either way
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};  // server: first frame
  StoreLog log;                                                           // empty: stderr
};

class StoreServer {
 public:
  // Listens on host:port ("0.0.0.0" for every interface; port 0 picks a free one, see port()).
  // Throws seller::Error naming the address when it cannot bind.
  StoreServer(const std::string& host, uint16_t port, StoreOptions options);
  ~StoreServer();  // stop()
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;

  uint16_t port() const;
  // Closes the listener and every connection (blocked clients see the connection close) and
  // joins the server thread. Idempotent.
  void stop();
  // Connections refused so far (bad token or protocol violation before the hello).
  size_t refused_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One connection to the server. Methods are thread-safe (serialised on the connection); use one
// client per thread for concurrency. Errors throw seller::Error (StoreTimeout for timeouts) with
// the key and the server address in the message.
class StoreClient {
 public:
  // Connects (retrying until connect_timeout, since rank 0 may start after the others) and sends
  // the hello; a refused token throws naming the server.
  StoreClient(const std::string& host, uint16_t port, StoreOptions options);
  ~StoreClient();
  StoreClient(const StoreClient&) = delete;
  StoreClient& operator=(const StoreClient&) = delete;

  void set(const std::string& key, const std::string& value);
  // Blocks until the key exists; throws StoreTimeout after `timeout`.
  std::string get(const std::string& key, std::chrono::milliseconds timeout);
  // Atomically adds delta to the counter under key (missing = 0) and returns the new value.
  int64_t add(const std::string& key, int64_t delta);
  // Blocks until every key exists; throws StoreTimeout naming the missing ones after `timeout`.
  void wait(const std::vector<std::string>& keys, std::chrono::milliseconds timeout);
  // Returns once `world` clients called barrier with the same name the same number of times.
  void barrier(const std::string& name, int world, std::chrono::milliseconds timeout);

  const std::string& address() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seller::dist
