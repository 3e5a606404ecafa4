// libFuzzer target: arbitrary bytes as a stream of rendezvous-store frames (store_protocol.h),
// parsed as requests and as responses the way the server and the client read them: frame after
// frame until the buffer ends or a frame is invalid. Invariants checked on every complete frame:
// it consumed at least a header and no more than it was given, no field exceeds its limit, and
// encoding the parsed message gives back exactly the bytes it was parsed from (the format has one
// encoding per message, so a parser that accepts anything else is a finding). Rejection is the
// expected outcome for bad input; a crash, a sanitizer report or an exception is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>

#include "trainer/io/store_protocol.h"

namespace proto = seller::dist::protocol;

namespace {

void require(bool condition) {
  if (!condition) std::abort();
}

void check_request(const proto::Request& r, std::span<const uint8_t> frame) {
  require(r.token.size() <= proto::kMaxTokenBytes);
  require(r.value.size() <= proto::kMaxValueBytes);
  require(r.keys.size() <= proto::kMaxWaitKeys);
  for (const auto& key : r.keys) require(key.size() <= proto::kMaxKeyBytes);
  const std::string again = proto::encode_request(r);
  require(again.size() == frame.size() &&
          std::memcmp(again.data(), frame.data(), again.size()) == 0);
}

void check_response(const proto::Response& r, std::span<const uint8_t> frame) {
  require(r.value.size() <= proto::kMaxValueBytes);
  const std::string again = proto::encode_response(r);
  require(again.size() == frame.size() &&
          std::memcmp(again.data(), frame.data(), again.size()) == 0);
}

template <class Parse, class Check>
void parse_stream(std::span<const uint8_t> data, Parse parse, Check check) {
  while (!data.empty()) {
    const auto parsed = parse(data);
    if (parsed.status == proto::ParseStatus::kNeedMore) {
      require(parsed.needed > data.size() &&
              parsed.needed <= proto::kHeaderBytes + proto::kMaxBodyBytes);
      return;
    }
    if (parsed.status == proto::ParseStatus::kInvalid) {
      require(!parsed.error.empty());
      return;
    }
    require(parsed.consumed > proto::kHeaderBytes && parsed.consumed <= data.size());
    check(parsed.message, data.first(parsed.consumed));
    data = data.subspan(parsed.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  parse_stream(bytes, proto::parse_request, check_request);
  parse_stream(bytes, proto::parse_response, check_response);
  // The server's order of work: header first (its length decides the read), then the body.
  if (size >= proto::kHeaderBytes) {
    std::string error;
    const uint32_t body = proto::parse_frame_header(bytes.first(proto::kHeaderBytes), error);
    require(error.empty() == (body != 0));
    if (body != 0 && size - proto::kHeaderBytes >= body) {
      const auto parsed = proto::parse_request_body(bytes.subspan(proto::kHeaderBytes, body));
      require(parsed.status != proto::ParseStatus::kNeedMore);
    }
  }
  // The token comparison on arbitrary secrets: equal exactly when the bytes are.
  const size_t half = size / 2;
  const std::string_view a(reinterpret_cast<const char*>(data), half);
  const std::string_view b(reinterpret_cast<const char*>(data) + half, size - half);
  require(proto::constant_time_equal(a, b) == (a == b));
  return 0;
}
