// Rendezvous of all ranks through the TCP store: rank 0 serves the store at the master address,
// every rank (rank 0 too) connects as a client. On top of the store it offers what start-up
// needs: a broadcast of a blob from rank 0 (the NCCL unique id, 128 bytes), a barrier, and an
// orderly finish in which rank 0 keeps serving until every rank has made its last request.
//
// Usage (the communicator's NCCL set-up, when MPI is not used):
//   const RankInfo info = detect_rank_info();
//   Rendezvous rv(info, store_options_from_env(""));
//   std::string id = rv.broadcast("nccl/unique-id", info.rank == 0 ? make_id() : "");
//   ...
//   rv.finish();
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "trainer/io/rank_env.h"
#include "trainer/io/tcp_store.h"

namespace seller::dist {

// Store options with the token from `token_option` when non-empty, else SELLER_STORE_TOKEN;
// throws ConfigError naming both when neither is set (there is no insecure default).
StoreOptions store_options_from_env(const std::string& token_option);

// The address rank 0's server binds: loopback when the master address is a loopback name or
// address (a single-node run stays off the network), every interface otherwise.
std::string store_bind_address(const std::string& master_addr);

class Rendezvous {
 public:
  // Rank 0 starts the server, then every rank connects (retrying within connect_timeout).
  // `timeout` bounds each broadcast, barrier and finish.
  Rendezvous(const RankInfo& info, StoreOptions options,
             std::chrono::milliseconds timeout = std::chrono::minutes(5));
  ~Rendezvous();
  Rendezvous(const Rendezvous&) = delete;
  Rendezvous& operator=(const Rendezvous&) = delete;

  // Rank 0's `value` under `key`, on every rank (rank 0 sets it, the others block on get).
  std::string broadcast(const std::string& key, const std::string& value);
  void barrier(const std::string& name);
  // Every rank reports done; rank 0 waits for all reports, then stops the server. Call once, on
  // every rank, after the last store use. Without it rank 0's destructor stops the server at once.
  void finish();

  StoreClient& store() { return *client_; }
  const RankInfo& info() const { return info_; }

 private:
  RankInfo info_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<StoreServer> server_;  // rank 0 only
  std::unique_ptr<StoreClient> client_;
};

}  // namespace seller::dist
