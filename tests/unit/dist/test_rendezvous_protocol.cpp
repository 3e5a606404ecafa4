// The store's wire protocol (trainer/io/store_protocol.h): round trips of every message, partial
// frames, and the limits that bound what a peer can make the reader allocate.
#include <gtest/gtest.h>

#include <cstring>

#include "trainer/core/error.h"
#include "trainer/io/store_protocol.h"

namespace {
namespace proto = seller::dist::protocol;
using proto::ParseStatus;

std::span<const uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

proto::Request request(proto::Op op, std::vector<std::string> keys = {}) {
  proto::Request r;
  r.op = op;
  r.keys = std::move(keys);
  return r;
}

// A frame with the given body (header computed), to build what our encoder never would.
std::string frame(const std::string& body) {
  std::string out(8, '\0');
  std::memcpy(out.data(), &proto::kMagic, 4);
  const auto n = static_cast<uint32_t>(body.size());
  std::memcpy(out.data() + 4, &n, 4);
  return out + body;
}

TEST(StoreProtocol, EveryRequestRoundTrips) {
  std::vector<proto::Request> all;
  auto hello = request(proto::Op::kHello);
  hello.token = std::string("s\0cret", 6);
  all.push_back(hello);
  auto set = request(proto::Op::kSet, {"nccl/id"});
  set.value = std::string(128, '\xff');
  all.push_back(set);
  auto get = request(proto::Op::kGet, {"k"});
  get.timeout_ms = 1234567;
  all.push_back(get);
  auto add = request(proto::Op::kAdd, {"count"});
  add.delta = -42;
  all.push_back(add);
  auto wait = request(proto::Op::kWait, {"a", "", "c"});
  wait.timeout_ms = 9;
  all.push_back(wait);
  for (const auto& r : all) {
    const std::string wire = proto::encode_request(r);
    const auto parsed = proto::parse_request(bytes(wire));
    ASSERT_EQ(parsed.status, ParseStatus::kComplete)
        << proto::op_name(r.op) << ": " << parsed.error;
    EXPECT_EQ(parsed.consumed, wire.size());
    EXPECT_EQ(parsed.message, r) << proto::op_name(r.op);
  }
}

TEST(StoreProtocol, ResponsesRoundTrip) {
  for (const proto::Response& r : {proto::Response{proto::Status::kOk, -7, std::string(300, 'v')},
                                   proto::Response{proto::Status::kTimeout, 0, "late"},
                                   proto::Response{proto::Status::kError, 1, ""}}) {
    const std::string wire = proto::encode_response(r);
    const auto parsed = proto::parse_response(bytes(wire));
    ASSERT_EQ(parsed.status, ParseStatus::kComplete) << parsed.error;
    EXPECT_EQ(parsed.message, r);
  }
}

TEST(StoreProtocol, PartialFramesNeedMoreAndTwoFramesSplit) {
  auto set = request(proto::Op::kSet, {"key"});
  set.value = "value";
  const std::string one = proto::encode_request(set);
  for (size_t cut = 0; cut < one.size(); ++cut) {
    const auto parsed = proto::parse_request(bytes(one.substr(0, cut)));
    ASSERT_EQ(parsed.status, ParseStatus::kNeedMore) << "cut at " << cut;
    EXPECT_EQ(parsed.needed, cut < proto::kHeaderBytes ? proto::kHeaderBytes : one.size());
  }
  const std::string two = one + proto::encode_request(request(proto::Op::kAdd, {"n"}));
  const auto first = proto::parse_request(bytes(two));
  ASSERT_EQ(first.status, ParseStatus::kComplete);
  EXPECT_EQ(first.consumed, one.size());
  const auto second = proto::parse_request(bytes(two).subspan(first.consumed));
  ASSERT_EQ(second.status, ParseStatus::kComplete);
  EXPECT_EQ(second.message.op, proto::Op::kAdd);
}

TEST(StoreProtocol, OversizedFramesAreRejectedFromTheHeader) {
  // Only the 8 header bytes exist: the reader must refuse before waiting for (or allocating) them.
  std::string header(8, '\0');
  std::memcpy(header.data(), &proto::kMagic, 4);
  const uint32_t huge = static_cast<uint32_t>(proto::kMaxBodyBytes + 1);
  std::memcpy(header.data() + 4, &huge, 4);
  const auto parsed = proto::parse_request(bytes(header));
  EXPECT_EQ(parsed.status, ParseStatus::kInvalid);
  EXPECT_NE(parsed.error.find("body length"), std::string::npos) << parsed.error;
  std::string wrong_magic = "GET / HTTP/1.1\r\n";
  EXPECT_EQ(proto::parse_request(bytes(wrong_magic)).status, ParseStatus::kInvalid);
}

TEST(StoreProtocol, FieldLimitsAreEnforcedBothWays) {
  auto long_key = request(proto::Op::kGet, {std::string(proto::kMaxKeyBytes + 1, 'k')});
  EXPECT_THROW(proto::encode_request(long_key), seller::Error);
  auto long_value = request(proto::Op::kSet, {"k"});
  long_value.value.assign(proto::kMaxValueBytes + 1, 'v');
  EXPECT_THROW(proto::encode_request(long_value), seller::Error);
  auto no_keys = request(proto::Op::kWait);
  EXPECT_THROW(proto::encode_request(no_keys), seller::Error);

  // A hand-made get whose key length claims 5000 bytes.
  std::string body(1, static_cast<char>(proto::Op::kGet));
  const uint32_t claimed = 5000;
  body.append(reinterpret_cast<const char*>(&claimed), 4);
  body.append(5000 + 8, 'x');
  const auto parsed = proto::parse_request(bytes(frame(body)));
  EXPECT_EQ(parsed.status, ParseStatus::kInvalid);
  EXPECT_NE(parsed.error.find("get key length 5000 exceeds the limit of 4096"), std::string::npos)
      << parsed.error;
}

TEST(StoreProtocol, MalformedBodiesAreInvalid) {
  const auto invalid = [](const std::string& body) {
    return proto::parse_request(bytes(frame(body)));
  };
  EXPECT_NE(invalid("\x09").error.find("unknown op 9"), std::string::npos);
  // A key length that runs past the body.
  EXPECT_NE(invalid(std::string("\x03\x10\x00\x00\x00", 5) + "ab").error.find("bytes left"),
            std::string::npos);
  // Trailing bytes after a complete add.
  auto add = proto::encode_request(request(proto::Op::kAdd, {"n"}));
  std::string body = add.substr(8) + "!";
  EXPECT_NE(invalid(body).error.find("trailing"), std::string::npos);
  // A wait that claims a million keys in a few bytes.
  std::string wait(1, static_cast<char>(proto::Op::kWait));
  const uint32_t count = 1000000;
  wait.append(reinterpret_cast<const char*>(&count), 4);
  EXPECT_NE(invalid(wait).error.find("wait key count 1000000"), std::string::npos);
  // A hello of another protocol version.
  EXPECT_NE(invalid(std::string("\x01\x07\x00\x00\x00\x00", 6)).error.find("version 7"),
            std::string::npos);
  // A response with an unknown status.
  std::string resp(1, '\x05');
  resp.append(12, '\0');
  EXPECT_EQ(proto::parse_response(bytes(frame(resp))).status, ParseStatus::kInvalid);
}

TEST(StoreProtocol, ConstantTimeEqual) {
  EXPECT_TRUE(proto::constant_time_equal("token", "token"));
  EXPECT_FALSE(proto::constant_time_equal("token", "tokeN"));
  EXPECT_FALSE(proto::constant_time_equal("token", "token2"));
  EXPECT_FALSE(proto::constant_time_equal("", "x"));
  EXPECT_TRUE(proto::constant_time_equal("", ""));
  EXPECT_FALSE(proto::constant_time_equal(std::string("a\0b", 3), std::string("a\0c", 3)));
}

}  // namespace
