// The TCP store (trainer/io/tcp_store.h) in one process: a server on an ephemeral loopback port
// and clients on threads. Covers set/get/add/wait/barrier among 4 clients, token refusal (and its
// log line), timeouts, oversized and garbage frames, and shutdown under blocked clients.
#include <gtest/gtest.h>

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <thread>

#include "trainer/io/store_protocol.h"
#include "trainer/io/tcp_store.h"

namespace {
using namespace std::chrono_literals;
using seller::dist::StoreClient;
using seller::dist::StoreOptions;
using seller::dist::StoreServer;
using seller::dist::StoreTimeout;
namespace proto = seller::dist::protocol;

// Options with a captured log, so tests can assert what the server said.
struct Logged {
  std::mutex mutex;
  std::vector<std::string> lines;
  StoreOptions options(const std::string& token = "secret-token") {
    StoreOptions o;
    o.token = token;
    o.connect_timeout = 5s;
    o.io_timeout = 2s;
    o.handshake_timeout = 1s;
    o.log = [this](const std::string& line) {
      std::lock_guard lock(mutex);
      lines.push_back(line);
    };
    return o;
  }
  std::string all() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
  }
};

// Sends raw bytes on a fresh connection and returns what the server answers before closing.
std::string raw_exchange(uint16_t port, const std::string& bytes) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  boost::asio::write(socket, boost::asio::buffer(bytes));
  std::string answer;
  boost::system::error_code ec;
  char buf[4096];
  while (true) {
    const size_t n = socket.read_some(boost::asio::buffer(buf), ec);
    if (ec) break;
    answer.append(buf, n);
  }
  return answer;
}

std::string error_message_of(const std::string& answer) {
  const auto parsed =
      proto::parse_response({reinterpret_cast<const uint8_t*>(answer.data()), answer.size()});
  if (parsed.status != proto::ParseStatus::kComplete) return "<no complete answer>";
  return parsed.message.value;
}

TEST(TcpStore, FourClientsSetGetAddWaitBarrier) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());
  ASSERT_NE(server.port(), 0);
  constexpr int kWorld = 4;
  std::vector<std::string> seen(kWorld);
  std::vector<int64_t> counters(kWorld);
  std::atomic<int> entered{0};
  std::atomic<int> left_early{0};
  std::vector<std::thread> threads;
  for (int rank = 0; rank < kWorld; ++rank) {
    threads.emplace_back([&, rank] {
      StoreClient client("127.0.0.1", server.port(), log.options());
      // Rank 3 publishes late: the others' get must block for it, not fail.
      if (rank == 3) {
        std::this_thread::sleep_for(200ms);
        client.set("blob", std::string(128, '\x7f') + "end");
      }
      seen[rank] = client.get("blob", 5s);
      counters[rank] = client.add("counter", 10);
      client.set("rank/" + std::to_string(rank), std::to_string(rank));
      client.wait({"rank/0", "rank/1", "rank/2", "rank/3"}, 5s);
      for (int round = 0; round < 3; ++round) {
        ++entered;
        client.barrier("b", kWorld, 5s);
        // Nobody leaves a barrier before all 4 have entered it.
        if (entered.load() < kWorld * (round + 1)) ++left_early;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int rank = 0; rank < kWorld; ++rank) {
    EXPECT_EQ(seen[rank], std::string(128, '\x7f') + "end") << rank;
  }
  EXPECT_EQ(left_early.load(), 0);
  std::sort(counters.begin(), counters.end());
  EXPECT_EQ(counters, (std::vector<int64_t>{10, 20, 30, 40}));  // atomic: each total once
  EXPECT_EQ(server.refused_connections(), 0u) << log.all();
}

TEST(TcpStore, WrongTokenIsRefusedAndLogged) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options("right"));
  try {
    StoreClient client("127.0.0.1", server.port(), log.options("wrong"));
    FAIL() << "a client with the wrong token was accepted";
  } catch (const seller::Error& e) {
    EXPECT_NE(std::string(e.what()).find("wrong token"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.refused_connections(), 1u);
  const std::string lines = log.all();
  EXPECT_NE(lines.find("refused connection from 127.0.0.1:"), std::string::npos) << lines;
  EXPECT_NE(lines.find("wrong token"), std::string::npos) << lines;
  // A token that shares a prefix is as wrong; the right one still works afterwards.
  EXPECT_THROW(StoreClient("127.0.0.1", server.port(), log.options("righ")), seller::Error);
  StoreClient good("127.0.0.1", server.port(), log.options("right"));
  good.set("k", "v");
  EXPECT_EQ(good.get("k", 1s), "v");
}

TEST(TcpStore, RequestBeforeHelloIsRefused) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());
  proto::Request set;
  set.op = proto::Op::kSet;
  set.keys = {"k"};
  set.value = "v";
  const std::string answer = raw_exchange(server.port(), proto::encode_request(set));
  EXPECT_NE(error_message_of(answer).find("first message was 'set'"), std::string::npos);
  EXPECT_EQ(server.refused_connections(), 1u);
  EXPECT_NE(log.all().find("first message was 'set'"), std::string::npos) << log.all();
}

TEST(TcpStore, SilentPeerIsDroppedAfterHandshakeTimeout) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());  // handshake timeout 1 s
  const auto start = std::chrono::steady_clock::now();
  const std::string answer = raw_exchange(server.port(), "");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  EXPECT_NE(error_message_of(answer).find("no hello"), std::string::npos);
  EXPECT_NE(log.all().find("no hello within the handshake timeout"), std::string::npos);
}

TEST(TcpStore, OversizedAndGarbageFramesAreRefused) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());
  // An unauthenticated peer announcing a 64 MiB body is refused from the header alone.
  std::string header(8, '\0');
  std::memcpy(header.data(), &proto::kMagic, 4);
  const uint32_t big = 64u << 20;
  std::memcpy(header.data() + 4, &big, 4);
  EXPECT_NE(error_message_of(raw_exchange(server.port(), header)).find("larger than a hello"),
            std::string::npos);
  EXPECT_NE(error_message_of(raw_exchange(server.port(), "GET / HTTP/1.1\r\n\r\n")).find("magic"),
            std::string::npos);
  EXPECT_EQ(server.refused_connections(), 2u) << log.all();
  // The client refuses to send a value over the limit instead of having it cut off.
  StoreClient client("127.0.0.1", server.port(), log.options());
  EXPECT_THROW(client.set("big", std::string(proto::kMaxValueBytes + 1, 'x')), seller::Error);
}

TEST(TcpStore, GetAndWaitTimeOutNamingTheKeys) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());
  StoreClient client("127.0.0.1", server.port(), log.options());
  client.set("present", "1");
  const auto start = std::chrono::steady_clock::now();
  try {
    client.wait({"present", "missing"}, 300ms);
    FAIL() << "wait on a missing key returned";
  } catch (const StoreTimeout& e) {
    EXPECT_NE(std::string(e.what()).find("'missing'"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find("'present'"), std::string::npos) << e.what();
  }
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 280ms);
  EXPECT_LT(waited, 2s);
  EXPECT_THROW(client.get("nothing", 100ms), StoreTimeout);
  // A timeout is an answer, not a broken stream: the client stays usable.
  EXPECT_EQ(client.get("present", 0ms), "1");
}

TEST(TcpStore, AddOnANonCounterIsAnError) {
  Logged log;
  StoreServer server("127.0.0.1", 0, log.options());
  StoreClient client("127.0.0.1", server.port(), log.options());
  client.set("text", "abc");
  EXPECT_THROW(client.add("text", 1), seller::Error);
  EXPECT_EQ(client.add("n", -5), -5);
  EXPECT_EQ(client.add("n", 7), 2);
  EXPECT_EQ(client.get("n", 0ms), "2");
}

TEST(TcpStore, ConnectTimesOutWithoutServer) {
  // Find a free port by binding and releasing it; nothing listens there afterwards.
  uint16_t port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  Logged log;
  auto options = log.options();
  options.connect_timeout = 300ms;
  try {
    StoreClient client("127.0.0.1", port, options);
    FAIL() << "connected to nothing";
  } catch (const StoreTimeout& e) {
    EXPECT_NE(std::string(e.what()).find("MASTER_ADDR/MASTER_PORT"), std::string::npos);
  }
}

TEST(TcpStore, StopReleasesBlockedClients) {
  Logged log;
  auto server = std::make_unique<StoreServer>("127.0.0.1", 0, log.options());
  StoreClient client("127.0.0.1", server->port(), log.options());
  std::string error;
  std::thread blocked([&] {
    try {
      client.get("never", 30s);
    } catch (const seller::Error& e) {
      error = e.what();
    }
  });
  std::this_thread::sleep_for(200ms);
  const auto start = std::chrono::steady_clock::now();
  server->stop();
  blocked.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(error.find("closed the connection"), std::string::npos) << error;
  server.reset();  // a second stop (destructor) is harmless
}

TEST(TcpStore, EmptyTokenAndBadAddressAreConfigErrors) {
  StoreOptions none;
  EXPECT_THROW(StoreServer("127.0.0.1", 0, none), seller::ConfigError);
  StoreOptions ok;
  ok.token = "t";
  EXPECT_THROW(StoreServer("not-an-ip", 0, ok), seller::ConfigError);
  StoreServer first("127.0.0.1", 0, ok);
  try {
    StoreServer second("127.0.0.1", first.port(), ok);
    FAIL() << "two servers on one port";
  } catch (const seller::Error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(first.port())), std::string::npos);
  }
}

}  // namespace
