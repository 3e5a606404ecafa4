// StoreClient (tcp_store.h): blocking calls built on Asio's asynchronous operations run with a
// deadline (io_context::run_for), because the synchronous socket calls cannot time out. A timed
// out or failed exchange closes the socket: the stream position is unknown afterwards, so the
// client is unusable and says so instead of reading a stale answer.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>

#include <map>
#include <mutex>
#include <thread>

#include "trainer/io/store_protocol.h"
#include "trainer/io/tcp_store.h"

namespace seller::dist {
namespace asio = boost::asio;
using asio::ip::tcp;
namespace proto = protocol;
using std::chrono::milliseconds;

struct StoreClient::Impl {
  asio::io_context io;
  tcp::socket socket{io};
  StoreOptions options;
  std::string address;
  std::mutex mutex;
  bool broken = false;
  std::map<std::string, int64_t> barrier_generation;

  // Runs one asynchronous operation to completion or until the deadline.
  template <class Start>
  void run(Start start, milliseconds timeout, const std::string& what) {
    boost::system::error_code result = asio::error::would_block;
    io.restart();
    start([&result](boost::system::error_code ec, auto&&...) { result = ec; });
    io.run_for(timeout);
    if (result == asio::error::would_block) {
      boost::system::error_code ignored;
      socket.close(ignored);
      io.run();  // let the cancelled operation finish before `result` goes out of scope
      broken = true;
      throw StoreTimeout(detail::concat("store server ", address, ": ", what, " timed out after ",
                                        timeout.count(), " ms"));
    }
    if (result) {
      broken = true;
      const bool closed = result == asio::error::eof || result == asio::error::connection_reset;
      throw Error(detail::concat("store server ", address, ": ", what, " failed: ",
                                 closed ? "the server closed the connection (stopped, or it "
                                          "refused this client)"
                                        : result.message()));
    }
  }

  proto::Response exchange(const proto::Request& request, milliseconds server_wait) {
    SELLER_THROW_IF_NOT(!broken, Error, "store client for ", address,
                        " is unusable after an earlier failure");
    const std::string frame = proto::encode_request(request);
    const std::string what = std::string(proto::op_name(request.op)) +
                             (request.keys.empty() ? "" : " '" + request.keys[0] + "'");
    run([&](auto handler) { asio::async_write(socket, asio::buffer(frame), handler); },
        options.io_timeout, "sending " + what);
    std::array<uint8_t, proto::kHeaderBytes> header{};
    run([&](auto handler) { asio::async_read(socket, asio::buffer(header), handler); },
        server_wait + options.io_timeout, "waiting for the answer to " + what);
    std::string error;
    const uint32_t length = proto::parse_frame_header(header, error);
    if (!error.empty()) {
      broken = true;
      throw Error("store server " + address + ": bad answer to " + what + ": " + error);
    }
    std::vector<uint8_t> body(length);
    run([&](auto handler) { asio::async_read(socket, asio::buffer(body), handler); },
        options.io_timeout, "reading the answer to " + what);
    auto parsed = proto::parse_response_body(body);
    if (parsed.status != proto::ParseStatus::kComplete) {
      broken = true;
      throw Error("store server " + address + ": bad answer to " + what + ": " + parsed.error);
    }
    auto& response = parsed.message;
    if (response.status == proto::Status::kTimeout)
      throw StoreTimeout("store server " + address + ": " + response.value);
    if (response.status == proto::Status::kError)
      throw Error("store server " + address + ": " + what + ": " + response.value);
    return std::move(response);
  }

  void connect(const std::string& host, uint16_t port) {
    const auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
    std::string last_error = "no attempt";
    tcp::resolver resolver(io);
    while (true) {
      boost::system::error_code ec;
      const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
      if (!ec) {
        const auto left =
            std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
        try {
          run([&](auto handler) { asio::async_connect(socket, endpoints, handler); },
              std::max(left, milliseconds(1)), "connecting");
          socket.set_option(tcp::no_delay(true), ec);
          broken = false;
          return;
        } catch (const Error& e) {
          last_error = e.what();
          broken = false;
          socket = tcp::socket(io);
        }
      } else {
        last_error = "cannot resolve '" + host + "': " + ec.message();
      }
      // Rank 0 may not listen yet: retry until the deadline instead of failing the first time.
      if (std::chrono::steady_clock::now() + milliseconds(100) >= deadline) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    throw StoreTimeout(detail::concat("cannot reach the store server at ", address, " within ",
                                      options.connect_timeout.count(), " ms (", last_error,
                                      "); is rank 0 running and MASTER_ADDR/MASTER_PORT right?"));
  }
};

StoreClient::StoreClient(const std::string& host, uint16_t port, StoreOptions options)
    : impl_(std::make_unique<Impl>()) {
  SELLER_THROW_IF_NOT(!options.token.empty(), ConfigError,
                      "store token is empty: set SELLER_STORE_TOKEN (or --token) to the secret "
                      "rank 0's server uses");
  impl_->options = std::move(options);
  impl_->address = host + ":" + std::to_string(port);
  impl_->connect(host, port);
  proto::Request hello;
  hello.op = proto::Op::kHello;
  hello.token = impl_->options.token;
  impl_->exchange(hello, milliseconds(0));
}

StoreClient::~StoreClient() = default;

const std::string& StoreClient::address() const { return impl_->address; }

void StoreClient::set(const std::string& key, const std::string& value) {
  std::lock_guard lock(impl_->mutex);
  proto::Request r;
  r.op = proto::Op::kSet;
  r.keys = {key};
  r.value = value;
  impl_->exchange(r, milliseconds(0));
}

std::string StoreClient::get(const std::string& key, milliseconds timeout) {
  std::lock_guard lock(impl_->mutex);
  proto::Request r;
  r.op = proto::Op::kGet;
  r.keys = {key};
  r.timeout_ms = static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0));
  return impl_->exchange(r, timeout).value;
}

int64_t StoreClient::add(const std::string& key, int64_t delta) {
  std::lock_guard lock(impl_->mutex);
  proto::Request r;
  r.op = proto::Op::kAdd;
  r.keys = {key};
  r.delta = delta;
  return impl_->exchange(r, milliseconds(0)).number;
}

void StoreClient::wait(const std::vector<std::string>& keys, milliseconds timeout) {
  std::lock_guard lock(impl_->mutex);
  proto::Request r;
  r.op = proto::Op::kWait;
  r.keys = keys;
  r.timeout_ms = static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0));
  impl_->exchange(r, timeout);
}

void StoreClient::barrier(const std::string& name, int world, milliseconds timeout) {
  SELLER_THROW_IF_NOT(world >= 1, ConfigError, "barrier '", name, "': world = ", world,
                      " must be at least 1");
  // Every rank calls the same barriers in the same order, so a per-name generation counter
  // gives each use its own keys without any coordination.
  int64_t generation;
  {
    std::lock_guard lock(impl_->mutex);
    generation = impl_->barrier_generation[name]++;
  }
  const std::string prefix = "barrier/" + name + "/" + std::to_string(generation);
  const int64_t arrived = add(prefix + "/count", 1);
  SELLER_THROW_IF_NOT(arrived <= world, Error, "barrier '", name, "' (use ", generation,
                      ") was joined by ", arrived, " clients, more than world = ", world);
  if (arrived == world) set(prefix + "/done", "");
  wait({prefix + "/done"}, timeout);
}

}  // namespace seller::dist
