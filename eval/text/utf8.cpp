// Implementation of the UTF-8 helpers (see utf8.h).
#include "eval/text/utf8.h"

namespace seller::eval {

char32_t decode_utf8(std::string_view text, size_t pos, size_t& length) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char b0 = byte(pos);
  length = 1;
  if (b0 < 0x80) return b0;
  size_t need;
  char32_t cp;
  char32_t min_value;
  if ((b0 & 0xE0) == 0xC0) {
    need = 1, cp = b0 & 0x1F, min_value = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    need = 2, cp = b0 & 0x0F, min_value = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    need = 3, cp = b0 & 0x07, min_value = 0x10000;
  } else {
    return kInvalidCodePoint;
  }
  if (pos + need >= text.size()) return kInvalidCodePoint;  // truncated sequence
  for (size_t k = 1; k <= need; ++k) {
    const unsigned char b = byte(pos + k);
    if ((b & 0xC0) != 0x80) return kInvalidCodePoint;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min_value || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return kInvalidCodePoint;
  length = need + 1;
  return cp;
}

bool is_valid_utf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    if (decode_utf8(text, pos, len) == kInvalidCodePoint) return false;
    pos += len;
  }
  return true;
}

bool is_python_space(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  if (cp < 0x85) return false;
  switch (cp) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

std::vector<std::string> split_python_whitespace(std::string_view text) {
  std::vector<std::string> tokens;
  size_t start = std::string_view::npos;
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    const char32_t cp = decode_utf8(text, pos, len);
    if (is_python_space(cp)) {
      if (start != std::string_view::npos) tokens.emplace_back(text.substr(start, pos - start));
      start = std::string_view::npos;
    } else if (start == std::string_view::npos) {
      start = pos;
    }
    pos += len;
  }
  if (start != std::string_view::npos) tokens.emplace_back(text.substr(start));
  return tokens;
}

std::string_view rstrip_python_whitespace(std::string_view text) {
  size_t end = 0;  // one past the last non-space code point
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    const char32_t cp = decode_utf8(text, pos, len);
    pos += len;
    if (!is_python_space(cp)) end = pos;
  }
  return text.substr(0, end);
}

}  // namespace seller::eval
