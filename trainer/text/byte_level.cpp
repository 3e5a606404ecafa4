// The table is built once; char_to_byte only has to cover U+0000..U+01FF.
#include "trainer/text/byte_level.h"

#include <array>

#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

struct ByteTables {
  std::array<char32_t, 256> to_char{};
  std::array<int16_t, 512> to_byte{};
  std::array<std::string, 256> utf8{};
  ByteTables() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      to_char[b] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
      append_utf8(utf8[b], to_char[b]);
    }
  }
};

const ByteTables& tables() {
  static const ByteTables t;
  return t;
}

}  // namespace

char32_t byte_to_char(uint8_t byte) { return tables().to_char[byte]; }

std::optional<uint8_t> char_to_byte(char32_t cp) {
  if (cp >= 512) return std::nullopt;
  const int16_t b = tables().to_byte[cp];
  if (b < 0) return std::nullopt;
  return static_cast<uint8_t>(b);
}

void append_bytes_as_chars(std::string& out, std::string_view bytes) {
  const auto& t = tables();
  for (char c : bytes) out += t.utf8[static_cast<uint8_t>(c)];
}

std::string bytes_to_chars(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  append_bytes_as_chars(out, bytes);
  return out;
}

}  // namespace seller::text
