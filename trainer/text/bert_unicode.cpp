// Lookups into the generated BERT character tables (binary search over sorted ranges; a dense
// array for code points below 0x3000, built once, serves the common case) and NFD.
#include "trainer/text/bert_unicode.h"

#include <algorithm>
#include <array>
#include <iterator>

#include "trainer/text/unicode.h"

namespace seller::text {
namespace detail {
// Defined in unicode.cpp next to the tables (one definition of the NFC data).
bool canonical_decomposition(char32_t cp, char32_t& first, char32_t& second);
}  // namespace detail

namespace {

struct BertRange {
  char32_t first, last;
  uint8_t flags;
};
struct BertLower {
  char32_t cp, lower0, lower1;
};

#include "trainer/text/bert_unicode_tables.inc"

constexpr char32_t kDenseLimit = 0x3000;

uint8_t lookup_flags(char32_t cp) {
  const auto* begin = std::begin(kBertCategoryRanges);
  const auto* end = std::end(kBertCategoryRanges);
  const auto* it =
      std::upper_bound(begin, end, cp, [](char32_t c, const BertRange& r) { return c < r.first; });
  if (it == begin) return 0;
  --it;
  return cp <= it->last ? it->flags : 0;
}

const std::array<uint8_t, kDenseLimit>& dense_flags() {
  static const auto table = [] {
    std::array<uint8_t, kDenseLimit> t{};
    for (char32_t cp = 0; cp < kDenseLimit; ++cp) t[cp] = lookup_flags(cp);
    return t;
  }();
  return table;
}

// Hangul syllable constants of the Unicode standard (chapter 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = 11172;

}  // namespace

uint8_t bert_flags(char32_t cp) { return cp < kDenseLimit ? dense_flags()[cp] : lookup_flags(cp); }

bool is_bert_chinese_char(char32_t cp) {
  // The ranges of tokenizers' BertNormalizer (not Python BERT's: 0x2B820..0x2B91F is absent).
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_lowercase(char32_t cp, std::vector<char32_t>& out) {
  if (cp < 0x80) {
    out.push_back(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp);
    return;
  }
  const auto* begin = std::begin(kBertLowercase);
  const auto* end = std::end(kBertLowercase);
  const auto* it =
      std::lower_bound(begin, end, cp, [](const BertLower& l, char32_t c) { return l.cp < c; });
  if (it == end || it->cp != cp) {
    out.push_back(cp);
    return;
  }
  out.push_back(it->lower0);
  if (it->lower1 != 0) out.push_back(it->lower1);
}

void append_canonical_decomposition(char32_t cp, std::vector<char32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const char32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  char32_t first = 0, second = 0;
  if (cp < 0xC0 || !detail::canonical_decomposition(cp, first, second)) {
    out.push_back(cp);
    return;
  }
  append_canonical_decomposition(first, out);
  if (second != 0) append_canonical_decomposition(second, out);
}

void canonical_reorder(std::vector<char32_t>& cps) {
  size_t i = 0;
  while (i < cps.size()) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && combining_class(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + i, cps.begin() + j, [](char32_t a, char32_t b) {
      return combining_class(a) < combining_class(b);
    });
    i = j;
  }
}

const char* bert_tables_source() { return kBertTablesSource; }

}  // namespace seller::text
