// StoreServer (tcp_store.h): one Asio thread owns the data, the sessions and the waiters, so no
// locks guard them; other threads only post to it. A session reads one frame, answers it (at
// once, or when a get/wait is satisfied or times out), then reads the next: a client never has
// more than one request in flight. Before its hello a peer may send at most a hello-sized frame,
// so an unauthenticated stranger cannot make the server allocate a 64 MiB body.
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <iostream>
#include <list>
#include <map>
#include <set>
#include <span>
#include <thread>

#include "trainer/io/store_protocol.h"
#include "trainer/io/tcp_store.h"

namespace seller::dist {
namespace asio = boost::asio;
using asio::ip::tcp;
namespace proto = protocol;

namespace {
constexpr size_t kMaxHelloBody = 1 + 1 + 4 + proto::kMaxTokenBytes;

void stderr_log(const std::string& line) { std::cerr << line << "\n" << std::flush; }
}  // namespace

class Session;

// The server's state; StoreServer::Impl is this (Session needs to name it, Impl is private).
struct ServerCore {
  asio::io_context io;  // first member: destroyed last, after everything that refers to it
  tcp::acceptor acceptor{io};
  StoreOptions options;
  std::map<std::string, std::string> data;
  std::set<std::shared_ptr<Session>> sessions;
  struct Waiter {
    std::weak_ptr<Session> session;
    std::vector<std::string> keys;
    proto::Op op;
    std::unique_ptr<asio::steady_timer> timer;
  };
  std::list<Waiter> waiters;
  std::atomic<size_t> refused{0};
  std::atomic<bool> stopped{false};
  uint16_t port = 0;
  std::thread thread;

  void log(const std::string& line) const { (options.log ? options.log : stderr_log)(line); }
  void accept();
  void handle(const std::shared_ptr<Session>& s, proto::Request request);
  bool satisfied(const Waiter& w) const;
  void reply_waiter(Waiter& w, bool timed_out);
  void notify();
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(ServerCore& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), timer_(server.io) {
    boost::system::error_code ec;
    const auto endpoint = socket_.remote_endpoint(ec);
    peer_ = ec ? std::string("unknown peer")
               : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  const std::string& peer() const { return peer_; }
  bool authenticated = false;

  void start() {
    arm(server_.options.handshake_timeout, "no hello within the handshake timeout");
    read_header();
  }

  // Sends a response, then reads the next request (or closes, after a refusal).
  void respond(const proto::Response& response, bool close_after = false) {
    out_ = proto::encode_response(response);
    arm(server_.options.io_timeout, "response not taken within the io timeout");
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), close_after](auto ec, size_t) {
                        self->timer_.cancel();
                        if (ec || close_after) return self->close();
                        self->read_header();
                      });
  }

  // Refuses the connection: counted, logged with the peer, told why, closed.
  void refuse(const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    ++server_.refused;
    server_.log("seller store: refused connection from " + peer_ + ": " + reason);
    respond({proto::Status::kError, 0, "connection refused: " + reason}, true);
  }

  void close() {
    closing_ = true;
    boost::system::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    server_.sessions.erase(shared_from_this());
  }

 private:
  void arm(std::chrono::milliseconds timeout, const char* reason) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), reason](auto ec) {
      if (ec || self->closing_) return;  // cancelled: the operation finished in time
      if (!self->authenticated) {
        self->refuse(reason);
      } else {
        self->server_.log("seller store: closing connection from " + self->peer_ + ": " + reason);
        self->close();
      }
    });
  }

  void read_header() {
    asio::async_read(socket_, asio::buffer(header_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return self->close();  // the peer left (or stop()): nothing to answer
      if (self->closing_) return;
      std::string error;
      const uint32_t body = proto::parse_frame_header(header_span(*self), error);
      if (error.empty() && !self->authenticated && body > kMaxHelloBody)
        error = "first frame of " + std::to_string(body) + " bytes is larger than a hello";
      if (!error.empty()) return self->protocol_error(error);
      self->body_.resize(body);
      if (self->authenticated)
        self->arm(self->server_.options.io_timeout, "frame body not received within io timeout");
      self->read_body();
    });
  }

  static std::span<const uint8_t> header_span(const Session& s) { return s.header_; }

  void read_body() {
    asio::async_read(socket_, asio::buffer(body_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return self->close();
      if (self->closing_) return;  // the deadline fired first and already answered
      self->timer_.cancel();
      auto parsed = proto::parse_request_body(self->body_);
      std::vector<uint8_t>().swap(self->body_);  // a 64 MiB value is not kept per session
      if (parsed.status != proto::ParseStatus::kComplete) return self->protocol_error(parsed.error);
      self->server_.handle(self, std::move(parsed.message));
    });
  }

  void protocol_error(const std::string& error) {
    if (!authenticated) return refuse("protocol error: " + error);
    server_.log("seller store: closing connection from " + peer_ + ": protocol error: " + error);
    respond({proto::Status::kError, 0, "protocol error: " + error}, true);
  }

  ServerCore& server_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string peer_;
  std::array<uint8_t, proto::kHeaderBytes> header_{};
  std::vector<uint8_t> body_;
  std::string out_;
  bool closing_ = false;  // refused or closed: late handlers must not answer again
};

struct StoreServer::Impl : ServerCore {};

void ServerCore::accept() {
  acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopped) return;
      log("seller store: accept failed: " + ec.message());
    } else {
      auto session = std::make_shared<Session>(*this, std::move(socket));
      sessions.insert(session);
      session->start();
    }
    accept();
  });
}

void ServerCore::handle(const std::shared_ptr<Session>& s, proto::Request r) {
  using proto::Op;
  using proto::Status;
  if (!s->authenticated) {
    if (r.op != Op::kHello)
      return s->refuse(std::string("first message was '") + proto::op_name(r.op) +
                       "', not a hello with the token");
    if (!proto::constant_time_equal(r.token, options.token)) return s->refuse("wrong token");
    s->authenticated = true;
    return s->respond({});
  }
  switch (r.op) {
    case Op::kHello:
      if (!proto::constant_time_equal(r.token, options.token)) return s->refuse("wrong token");
      return s->respond({});
    case Op::kSet:
      data[r.keys[0]] = std::move(r.value);
      s->respond({});
      return notify();
    case Op::kAdd: {
      int64_t current = 0;
      if (auto it = data.find(r.keys[0]); it != data.end()) {
        size_t used = 0;
        try {
          current = std::stoll(it->second, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != it->second.size())
          return s->respond({Status::kError, 0,
                             "add: key '" + r.keys[0] + "' holds a value that is not a counter"});
      }
      int64_t next = 0;
      if (__builtin_add_overflow(current, r.delta, &next))
        return s->respond({Status::kError, 0, "add: counter '" + r.keys[0] + "' would overflow"});
      data[r.keys[0]] = std::to_string(next);
      s->respond({Status::kOk, next, {}});
      return notify();
    }
    case Op::kGet:
    case Op::kWait: {
      Waiter w{s, std::move(r.keys), r.op, nullptr};
      if (satisfied(w)) return reply_waiter(w, false);
      if (r.timeout_ms == 0) return reply_waiter(w, true);
      w.timer = std::make_unique<asio::steady_timer>(io);
      // Clamp: a huge timeout from the wire must not overflow the clock arithmetic.
      w.timer->expires_after(
          std::chrono::milliseconds(std::min<uint64_t>(r.timeout_ms, 1ull << 40)));
      waiters.push_back(std::move(w));
      auto it = std::prev(waiters.end());
      it->timer->async_wait([this, it](auto ec) {
        if (ec) return;  // satisfied (or stopping): the entry is gone or going
        reply_waiter(*it, true);
        waiters.erase(it);
      });
      return;
    }
  }
}

bool ServerCore::satisfied(const Waiter& w) const {
  for (const auto& key : w.keys)
    if (!data.count(key)) return false;
  return true;
}

void ServerCore::reply_waiter(Waiter& w, bool timed_out) {
  auto s = w.session.lock();
  if (!s) return;
  if (timed_out) {
    std::string missing;
    for (const auto& key : w.keys)
      if (!data.count(key)) missing += (missing.empty() ? "'" : ", '") + key + "'";
    s->respond({proto::Status::kTimeout, 0,
                std::string(proto::op_name(w.op)) + " timed out waiting for key(s) " + missing});
  } else {
    s->respond({proto::Status::kOk, 0, w.op == proto::Op::kGet ? data.at(w.keys[0]) : ""});
  }
}

void ServerCore::notify() {
  for (auto it = waiters.begin(); it != waiters.end();) {
    if (!satisfied(*it)) {
      ++it;
      continue;
    }
    it->timer->cancel();
    reply_waiter(*it, false);
    it = waiters.erase(it);
  }
}

StoreServer::StoreServer(const std::string& host, uint16_t port, StoreOptions options)
    : impl_(std::make_unique<Impl>()) {
  SELLER_THROW_IF_NOT(!options.token.empty(), ConfigError,
                      "store token is empty: set SELLER_STORE_TOKEN (or --token) to a shared "
                      "secret on every rank");
  SELLER_THROW_IF_NOT(options.token.size() <= proto::kMaxTokenBytes, ConfigError,
                      "store token has ", options.token.size(), " bytes, more than ",
                      proto::kMaxTokenBytes);
  impl_->options = std::move(options);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  SELLER_THROW_IF_NOT(!ec, ConfigError, "store server address '", host,
                      "' is not an IP address: ", ec.message());
  const tcp::endpoint endpoint(address, port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  SELLER_THROW_IF_NOT(!ec, Error, "store server cannot listen on ", host, ":", port, ": ",
                      ec.message(), " (is MASTER_PORT taken? choose another)");
  impl_->port = acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

StoreServer::~StoreServer() { stop(); }

uint16_t StoreServer::port() const { return impl_->port; }

size_t StoreServer::refused_connections() const { return impl_->refused; }

void StoreServer::stop() {
  if (impl_->stopped.exchange(true)) return;
  asio::post(impl_->io, [impl = impl_.get()] {
    boost::system::error_code ec;
    impl->acceptor.close(ec);
    impl->waiters.clear();  // their timers cancel; their sessions are closed next
    for (const auto& s : std::set<std::shared_ptr<Session>>(impl->sessions)) s->close();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace seller::dist
