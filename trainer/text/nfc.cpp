// NFC from the generated tables: one-level canonical decompositions (applied recursively),
// combining classes, and the primary composites (pairs that recompose; composition exclusions
// and singletons are already left out by the generator).
#include "trainer/text/nfc.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "trainer/text/unicode.h"

namespace seller::text {
namespace detail {
bool canonical_decomposition(char32_t cp, char32_t& first, char32_t& second);
void visit_compositions(void (*f)(void*, char32_t, char32_t, char32_t), void* ctx);
}  // namespace detail

namespace {

constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr char32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

using CompositionMap = std::unordered_map<uint64_t, char32_t>;

uint64_t pair_key(char32_t a, char32_t b) { return (uint64_t{a} << 32) | b; }

const CompositionMap& compositions() {
  static const CompositionMap map = [] {
    CompositionMap m;
    detail::visit_compositions(
        [](void* ctx, char32_t a, char32_t b, char32_t c) {
          static_cast<CompositionMap*>(ctx)->emplace(pair_key(a, b), c);
        },
        &m);
    return m;
  }();
  return map;
}

void decompose(char32_t cp, std::vector<char32_t>& out) {
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
  decompose(first, out);
  if (second != 0) decompose(second, out);
}

// 0 when a and b do not compose.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto& map = compositions();
  const auto it = map.find(pair_key(a, b));
  return it == map.end() ? 0 : it->second;
}

}  // namespace

std::string nfc_normalize(std::string_view utf8) {
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<uint8_t>(c) < 0x80; }))
    return std::string(utf8);

  std::vector<char32_t> buf;
  buf.reserve(utf8.size());
  for (size_t i = 0; i < utf8.size();) {
    const DecodedChar d = decode_utf8(utf8, i);
    decompose(d.cp, buf);
    i += d.len;
  }

  // Canonical ordering: stable sort of every run of non-starters by combining class.
  std::vector<uint8_t> ccc(buf.size());
  for (size_t i = 0; i < buf.size(); ++i) ccc[i] = combining_class(buf[i]);
  for (size_t i = 0; i < buf.size();) {
    if (ccc[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < buf.size() && ccc[j] != 0) ++j;
    if (j - i > 1) {
      std::vector<std::pair<uint8_t, char32_t>> run;
      for (size_t k = i; k < j; ++k) run.emplace_back(ccc[k], buf[k]);
      std::stable_sort(run.begin(), run.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
      for (size_t k = i; k < j; ++k) {
        ccc[k] = run[k - i].first;
        buf[k] = run[k - i].second;
      }
    }
    i = j;
  }

  // Canonical composition (UAX #15): a character composes with the last starter unless a
  // character in between has a combining class >= its own (blocked).
  std::string out;
  out.reserve(utf8.size());
  if (!buf.empty()) {
    size_t starter = 0;
    int last_class = ccc[0] == 0 ? 0 : 256;
    size_t kept = 1;
    for (size_t i = 1; i < buf.size(); ++i) {
      const char32_t ch = buf[i];
      const int ch_class = ccc[i];
      const char32_t composite =
          (last_class < ch_class || last_class == 0) ? compose(buf[starter], ch) : 0;
      if (composite != 0 && (last_class < ch_class || last_class == 0)) {
        buf[starter] = composite;
        continue;
      }
      if (ch_class == 0) starter = kept;
      last_class = ch_class;
      buf[kept] = ch;
      ccc[kept] = static_cast<uint8_t>(ch_class);
      ++kept;
    }
    buf.resize(kept);
  }
  for (char32_t cp : buf) append_utf8(out, cp);
  return out;
}

}  // namespace seller::text
