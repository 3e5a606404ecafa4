// Rendezvous through the TCP store (see store_rendezvous.h). Keys live under "rendezvous/" so a
// later user of the same store cannot collide with them.
#include "trainer/io/store_rendezvous.h"

#include <cstdlib>

#include "trainer/core/error.h"

namespace seller::dist {

StoreOptions store_options_from_env(const std::string& token_option) {
  StoreOptions options;
  if (!token_option.empty()) {
    options.token = token_option;
  } else if (const char* env = std::getenv("SELLER_STORE_TOKEN"); env && *env) {
    options.token = env;
  }
  SELLER_THROW_IF_NOT(!options.token.empty(), ConfigError,
                      "no store token: set SELLER_STORE_TOKEN (or --token) to the same secret on "
                      "every rank, e.g. export SELLER_STORE_TOKEN=$(openssl rand -hex 16); "
                      "`seller launch` sets one for its ranks");
  return options;
}

std::string store_bind_address(const std::string& master_addr) {
  if (master_addr == "localhost" || master_addr.rfind("127.", 0) == 0 || master_addr == "::1")
    return "127.0.0.1";
  return "0.0.0.0";
}

Rendezvous::Rendezvous(const RankInfo& info, StoreOptions options,
                       std::chrono::milliseconds timeout)
    : info_(info), timeout_(timeout) {
  SELLER_THROW_IF_NOT(!info.master_addr.empty(), ConfigError, "rank ", info.rank, " of ",
                      info.world_size, " (", source_name(info.source),
                      " launch) does not know rank 0's address: the ranks span several nodes, so "
                      "set MASTER_ADDR to rank 0's host (with mpirun: -x MASTER_ADDR=<host>)");
  SELLER_THROW_IF_NOT(info.master_port != 0, ConfigError, "MASTER_PORT = 0 is not a usable port");
  if (info.rank == 0)
    server_ = std::make_unique<StoreServer>(store_bind_address(info.master_addr), info.master_port,
                                            options);
  client_ = std::make_unique<StoreClient>(info.master_addr, info.master_port, std::move(options));
}

Rendezvous::~Rendezvous() {
  client_.reset();
  if (server_) server_->stop();
}

std::string Rendezvous::broadcast(const std::string& key, const std::string& value) {
  const std::string full = "rendezvous/broadcast/" + key;
  if (info_.rank == 0) {
    client_->set(full, value);
    return value;
  }
  return client_->get(full, timeout_);
}

void Rendezvous::barrier(const std::string& name) {
  client_->barrier("rendezvous/" + name, info_.world_size, timeout_);
}

void Rendezvous::finish() {
  const int64_t done = client_->add("rendezvous/finished", 1);
  if (done == info_.world_size) client_->set("rendezvous/all-finished", "");
  if (info_.rank != 0) return;
  // Rank 0 is the server: leaving before the others have their answers would cut them off.
  client_->wait({"rendezvous/all-finished"}, timeout_);
  client_.reset();
  server_->stop();
}

}  // namespace seller::dist
