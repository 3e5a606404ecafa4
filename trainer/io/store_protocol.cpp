// Encoding and parsing of the rendezvous store's frames (see store_protocol.h). The reader is a
// cursor over a span that fails (never throws, never reads past the end) on the first field that
// does not fit; the parse functions turn that into kInvalid with the field named.
#include "trainer/io/store_protocol.h"

#include <cstring>

#include "trainer/core/error.h"

namespace seller::dist::protocol {
namespace {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> data) : data_(data) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool at_end() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

  template <class T>
  T integer(const char* field) {
    T value{};
    if (!ok()) return value;
    if (remaining() < sizeof(T)) {
      fail(field, " needs ", sizeof(T), " bytes, ", remaining(), " left");
      return value;
    }
    std::memcpy(&value, data_.data() + pos_, sizeof(T));  // the wire and every target are LE
    pos_ += sizeof(T);
    return value;
  }

  // A u32 length, checked against `limit` before the bytes are copied.
  std::string bytes(const char* field, size_t limit) {
    const uint32_t length = integer<uint32_t>(field);
    if (!ok()) return {};
    if (length > limit) {
      fail(field, " length ", length, " exceeds the limit of ", limit, " bytes");
      return {};
    }
    if (remaining() < length) {
      fail(field, " length ", length, " exceeds the ", remaining(), " bytes left in the body");
      return {};
    }
    std::string out(reinterpret_cast<const char*>(data_.data() + pos_), length);
    pos_ += length;
    return out;
  }

  template <class... Args>
  void fail(const Args&... args) {
    if (ok()) error_ = detail::concat(args...);
  }

 private:
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  std::string error_;
};

class Writer {
 public:
  template <class T>
  void integer(T value) {
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    body_.append(raw, sizeof(T));
  }
  void bytes(std::string_view field, std::string_view data, size_t limit) {
    SELLER_THROW_IF_NOT(data.size() <= limit, Error, "store message field '", field, "' has ",
                        data.size(), " bytes, more than the limit of ", limit);
    integer<uint32_t>(static_cast<uint32_t>(data.size()));
    body_.append(data);
  }
  // The frame: header, then the body written so far.
  std::string frame() const {
    std::string out;
    out.reserve(kHeaderBytes + body_.size());
    char raw[4];
    std::memcpy(raw, &kMagic, 4);
    out.append(raw, 4);
    const auto length = static_cast<uint32_t>(body_.size());
    std::memcpy(raw, &length, 4);
    out.append(raw, 4);
    out += body_;
    return out;
  }

 private:
  std::string body_;
};

template <class Message, class BodyParser>
Parsed<Message> parse_frame(std::span<const uint8_t> buffer, BodyParser parse_body) {
  Parsed<Message> out;
  if (buffer.size() < kHeaderBytes) {
    out.needed = kHeaderBytes;
    return out;
  }
  const uint32_t body_bytes = parse_frame_header(buffer.first(kHeaderBytes), out.error);
  if (!out.error.empty()) {
    out.status = ParseStatus::kInvalid;
    return out;
  }
  const size_t total = kHeaderBytes + body_bytes;
  if (buffer.size() < total) {
    out.needed = total;
    return out;
  }
  out = parse_body(buffer.subspan(kHeaderBytes, body_bytes));
  if (out.status == ParseStatus::kComplete) out.consumed = total;
  return out;
}

}  // namespace

const char* op_name(Op op) {
  switch (op) {
    case Op::kHello:
      return "hello";
    case Op::kSet:
      return "set";
    case Op::kGet:
      return "get";
    case Op::kAdd:
      return "add";
    case Op::kWait:
      return "wait";
  }
  return "unknown";
}

uint32_t parse_frame_header(std::span<const uint8_t> header, std::string& error) {
  if (header.size() != kHeaderBytes) {
    error = detail::concat("frame header has ", header.size(), " bytes, expected ", kHeaderBytes);
    return 0;
  }
  uint32_t magic = 0, length = 0;
  std::memcpy(&magic, header.data(), 4);
  std::memcpy(&length, header.data() + 4, 4);
  if (magic != kMagic) {
    error = detail::concat("bad frame magic 0x", std::hex, magic, " (not a seller store peer)");
    return 0;
  }
  if (length == 0 || length > kMaxBodyBytes) {
    error = detail::concat("frame body length ", length, " outside [1, ", kMaxBodyBytes, "]");
    return 0;
  }
  return length;
}

Parsed<Request> parse_request_body(std::span<const uint8_t> body) {
  Parsed<Request> out;
  Reader in(body);
  Request& r = out.message;
  const auto op = in.integer<uint8_t>("op");
  switch (static_cast<Op>(op)) {
    case Op::kHello:
      r.version = in.integer<uint8_t>("hello version");
      r.token = in.bytes("hello token", kMaxTokenBytes);
      if (in.ok() && r.version != kVersion)
        in.fail("protocol version ", int{r.version}, " is not the supported ", int{kVersion});
      break;
    case Op::kSet:
      r.keys.push_back(in.bytes("set key", kMaxKeyBytes));
      r.value = in.bytes("set value", kMaxValueBytes);
      break;
    case Op::kGet:
      r.keys.push_back(in.bytes("get key", kMaxKeyBytes));
      r.timeout_ms = in.integer<uint64_t>("get timeout");
      break;
    case Op::kAdd:
      r.keys.push_back(in.bytes("add key", kMaxKeyBytes));
      r.delta = in.integer<int64_t>("add delta");
      break;
    case Op::kWait: {
      const auto count = in.integer<uint32_t>("wait key count");
      if (in.ok() && (count == 0 || count > kMaxWaitKeys))
        in.fail("wait key count ", count, " outside [1, ", kMaxWaitKeys, "]");
      // Each key needs at least its 4-byte length: bounds the loop by the body size too.
      if (in.ok() && count > in.remaining() / 4)
        in.fail("wait key count ", count, " exceeds what ", in.remaining(), " bytes can hold");
      for (uint32_t i = 0; in.ok() && i < count; ++i)
        r.keys.push_back(in.bytes("wait key", kMaxKeyBytes));
      r.timeout_ms = in.integer<uint64_t>("wait timeout");
      break;
    }
    default:
      in.fail("unknown op ", int{op});
  }
  r.op = static_cast<Op>(op);
  if (in.ok() && !in.at_end()) in.fail(in.remaining(), " trailing bytes after the ", op_name(r.op));
  if (in.ok()) {
    out.status = ParseStatus::kComplete;
    out.consumed = body.size();
  } else {
    out.status = ParseStatus::kInvalid;
    out.error = in.error();
    out.message = Request{};
  }
  return out;
}

Parsed<Response> parse_response_body(std::span<const uint8_t> body) {
  Parsed<Response> out;
  Reader in(body);
  const auto status = in.integer<uint8_t>("status");
  if (in.ok() && status > static_cast<uint8_t>(Status::kError))
    in.fail("unknown status ", int{status});
  out.message.status = static_cast<Status>(status);
  out.message.number = in.integer<int64_t>("number");
  out.message.value = in.bytes("value", kMaxValueBytes);
  if (in.ok() && !in.at_end()) in.fail(in.remaining(), " trailing bytes after the response");
  if (in.ok()) {
    out.status = ParseStatus::kComplete;
    out.consumed = body.size();
  } else {
    out.status = ParseStatus::kInvalid;
    out.error = in.error();
    out.message = Response{};
  }
  return out;
}

Parsed<Request> parse_request(std::span<const uint8_t> buffer) {
  return parse_frame<Request>(buffer, parse_request_body);
}

Parsed<Response> parse_response(std::span<const uint8_t> buffer) {
  return parse_frame<Response>(buffer, parse_response_body);
}

std::string encode_request(const Request& r) {
  Writer out;
  out.integer<uint8_t>(static_cast<uint8_t>(r.op));
  const auto one_key = [&](const char* field) {
    SELLER_THROW_IF_NOT(r.keys.size() == 1, Error, "store ", op_name(r.op), " needs one key, got ",
                        r.keys.size());
    out.bytes(field, r.keys[0], kMaxKeyBytes);
  };
  switch (r.op) {
    case Op::kHello:
      out.integer<uint8_t>(r.version);
      out.bytes("token", r.token, kMaxTokenBytes);
      break;
    case Op::kSet:
      one_key("key");
      out.bytes("value", r.value, kMaxValueBytes);
      break;
    case Op::kGet:
      one_key("key");
      out.integer<uint64_t>(r.timeout_ms);
      break;
    case Op::kAdd:
      one_key("key");
      out.integer<int64_t>(r.delta);
      break;
    case Op::kWait:
      SELLER_THROW_IF_NOT(!r.keys.empty() && r.keys.size() <= kMaxWaitKeys, Error,
                          "store wait takes 1 to ", kMaxWaitKeys, " keys, got ", r.keys.size());
      out.integer<uint32_t>(static_cast<uint32_t>(r.keys.size()));
      for (const auto& key : r.keys) out.bytes("key", key, kMaxKeyBytes);
      out.integer<uint64_t>(r.timeout_ms);
      break;
    default:
      SELLER_CHECK(false, "unknown store op ", int{static_cast<uint8_t>(r.op)});
  }
  return out.frame();
}

std::string encode_response(const Response& r) {
  Writer out;
  out.integer<uint8_t>(static_cast<uint8_t>(r.status));
  out.integer<int64_t>(r.number);
  out.bytes("value", r.value, kMaxValueBytes);
  return out.frame();
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer length in full so the time says nothing about a common prefix.
  const size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0u;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0u;
    diff |= x ^ y;
  }
  // Stop the compiler from turning the loop into an early-exit comparison.
  volatile unsigned sink = diff;
  return sink == 0;
}

}  // namespace seller::dist::protocol
