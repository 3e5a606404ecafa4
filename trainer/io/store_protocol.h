// Wire protocol of the rendezvous key-value store (tcp_store.h). A message is one frame:
//
//   u32 magic "SLST" | u32 body length | body            (all integers little-endian)
//   request body:  u8 op | fields of the op               strings are u32 length + bytes
//     hello: u8 version, token        set: key, value     get: key, u64 timeout_ms
//     add:   key, i64 delta           wait: u32 n, n keys, u64 timeout_ms
//   response body: u8 status | i64 number | value          (error: value is the message)
//
// The parsers are pure functions over a byte buffer (no sockets, no allocation beyond the parsed
// message) so that a libFuzzer target can drive them. Every length is checked against the
// remaining bytes and against the limits below before anything is copied, so a frame can never
// make the reader allocate more than kMaxBodyBytes; a body must be consumed exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seller::dist::protocol {

inline constexpr uint32_t kMagic = 0x54534c53;  // bytes "SLST" on the wire
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kHeaderBytes = 8;
inline constexpr size_t kMaxKeyBytes = 4096;
inline constexpr size_t kMaxValueBytes = size_t{64} << 20;
inline constexpr size_t kMaxTokenBytes = 1024;
inline constexpr size_t kMaxWaitKeys = 1024;
// The largest legal body: a set with a maximal key and value, plus the op and two lengths. A
// wait with kMaxWaitKeys maximal keys (4 MiB) stays below it.
inline constexpr size_t kMaxBodyBytes = 1 + 4 + kMaxKeyBytes + 4 + kMaxValueBytes;

enum class Op : uint8_t { kHello = 1, kSet = 2, kGet = 3, kAdd = 4, kWait = 5 };
enum class Status : uint8_t { kOk = 0, kTimeout = 1, kError = 2 };

const char* op_name(Op op);

struct Request {
  Op op = Op::kHello;
  uint8_t version = kVersion;     // hello
  std::string token;              // hello
  std::vector<std::string> keys;  // set/get/add: one key; wait: 1..kMaxWaitKeys keys
  std::string value;              // set
  int64_t delta = 0;              // add
  uint64_t timeout_ms = 0;        // get, wait

  bool operator==(const Request&) const = default;
};

struct Response {
  Status status = Status::kOk;
  int64_t number = 0;  // add: the counter after the addition
  std::string value;   // get: the value; error: the message

  bool operator==(const Response&) const = default;
};

enum class ParseStatus { kComplete, kNeedMore, kInvalid };

template <class Message>
struct Parsed {
  ParseStatus status = ParseStatus::kNeedMore;
  Message message;
  size_t consumed = 0;  // bytes of the buffer the complete frame used
  size_t needed = 0;    // kNeedMore: total bytes the frame needs so far (header, then whole)
  std::string error;    // kInvalid: why
};

// Checks an 8-byte frame header: magic and a body length within kMaxBodyBytes. Returns the body
// length, or sets `error` and returns 0 (a body is never empty, so 0 is not a legal length).
uint32_t parse_frame_header(std::span<const uint8_t> header, std::string& error);

// Body parsers: the bytes after the header, consumed exactly.
Parsed<Request> parse_request_body(std::span<const uint8_t> body);
Parsed<Response> parse_response_body(std::span<const uint8_t> body);

// Whole-frame parsers over a buffer that may hold a partial frame (kNeedMore) or more than one
// frame (consumed says where the next begins).
Parsed<Request> parse_request(std::span<const uint8_t> buffer);
Parsed<Response> parse_response(std::span<const uint8_t> buffer);

// Encoders: the frame, header included. They check the same limits as the parsers (so a frame
// we send is one the peer accepts) and throw seller::Error naming the field and its size.
std::string encode_request(const Request& request);
std::string encode_response(const Response& response);

// Compares two secrets in time that depends only on their lengths, never on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace seller::dist::protocol
