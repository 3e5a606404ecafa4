// Lookups into the generated Unicode tables (binary search over ranges; a dense table for the
// Basic Multilingual Plane, built once, serves the common case) and UTF-8 coding.
#include "trainer/text/unicode.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace seller::text {
namespace {

struct CategoryRange {
  char32_t first, last;
  uint8_t cls;
};
struct CombiningClassRange {
  char32_t first, last;
  uint8_t ccc;
};
struct CanonicalDecomposition {
  char32_t cp, first, second;
  uint8_t composes;
};

#include "trainer/text/unicode_tables.inc"

template <class Range, class Value>
Value lookup_range(const Range* begin, const Range* end, char32_t cp, Value Range::*field) {
  const Range* it =
      std::upper_bound(begin, end, cp, [](char32_t c, const Range& r) { return c < r.first; });
  if (it == begin) return Value{0};
  --it;
  return cp <= it->last ? it->*field : Value{0};
}

constexpr char32_t kBmpSize = 0x10000;

struct BmpTables {
  std::array<uint8_t, kBmpSize> cls{};
  std::array<uint8_t, kBmpSize> ccc{};
  BmpTables() {
    for (const auto& r : kCategoryRanges)
      for (char32_t c = r.first; c <= r.last && c < kBmpSize; ++c) cls[c] = r.cls;
    for (const auto& r : kCombiningClassRanges)
      for (char32_t c = r.first; c <= r.last && c < kBmpSize; ++c) ccc[c] = r.ccc;
  }
};

const BmpTables& bmp() {
  static const BmpTables tables;
  return tables;
}

}  // namespace

CharClass char_class(char32_t cp) {
  if (cp < kBmpSize) return static_cast<CharClass>(bmp().cls[cp]);
  return static_cast<CharClass>(lookup_range(std::begin(kCategoryRanges), std::end(kCategoryRanges),
                                             cp, &CategoryRange::cls));
}

uint8_t combining_class(char32_t cp) {
  if (cp < kBmpSize) return bmp().ccc[cp];
  return lookup_range(std::begin(kCombiningClassRanges), std::end(kCombiningClassRanges), cp,
                      &CombiningClassRange::ccc);
}

const char* unicode_version() { return kUnicodeVersion; }
const char* nfc_unicode_version() { return kNfcUnicodeVersion; }

// Used by nfc.cpp (declared there), so that the tables have one definition.
namespace detail {
bool canonical_decomposition(char32_t cp, char32_t& first, char32_t& second) {
  const auto* begin = std::begin(kCanonicalDecompositions);
  const auto* end = std::end(kCanonicalDecompositions);
  const auto* it = std::lower_bound(
      begin, end, cp, [](const CanonicalDecomposition& d, char32_t c) { return d.cp < c; });
  if (it == end || it->cp != cp) return false;
  first = it->first;
  second = it->second;
  return true;
}

void visit_compositions(void (*f)(void*, char32_t, char32_t, char32_t), void* ctx) {
  for (const auto& d : kCanonicalDecompositions)
    if (d.composes) f(ctx, d.first, d.second, d.cp);
}
}  // namespace detail

DecodedChar decode_utf8(std::string_view s, size_t pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  const uint8_t b0 = byte(pos);
  if (b0 < 0x80) return {b0, 1, true};
  uint32_t need;
  char32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {kReplacementChar, 1, false};
  }
  uint32_t len = 1;
  for (uint32_t k = 0; k < need; ++k) {
    if (pos + len >= s.size()) return {kReplacementChar, len, false};
    const uint8_t b = byte(pos + len);
    const uint8_t min = k == 0 ? lo : 0x80, max = k == 0 ? hi : 0xBF;
    if (b < min || b > max) return {kReplacementChar, len, false};
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {cp, len, true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const DecodedChar d = decode_utf8(s, i);
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const DecodedChar d = decode_utf8(s, i);
    if (d.valid)
      out.append(s.substr(i, d.len));
    else
      append_utf8(out, kReplacementChar);
    i += d.len;
  }
  return out;
}

}  // namespace seller::text
