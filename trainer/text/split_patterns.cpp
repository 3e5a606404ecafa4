// The matchers work on the decoded characters of the input (class, code point, byte offset)
// and return, at each position, the end of the match that the regex engine would choose: the
// first alternative that matches, with greedy quantifiers and the backtracking the patterns
// need (only `\s+(?!\S)` and `\s*[\r\n]+` backtrack, and both have closed forms).
#include "trainer/text/split_patterns.h"

#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

constexpr std::string_view kGpt2Regex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view kQwen2Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

struct Chars {
  std::vector<char32_t> cp;
  std::vector<CharClass> cls;
  std::vector<uint32_t> offset;  // size n + 1
  size_t n = 0;

  explicit Chars(std::string_view text) {
    cp.reserve(text.size());
    cls.reserve(text.size());
    offset.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size();) {
      const DecodedChar d = decode_utf8(text, i);
      cp.push_back(d.cp);
      cls.push_back(char_class(d.cp));
      offset.push_back(static_cast<uint32_t>(i));
      i += d.len;
    }
    offset.push_back(static_cast<uint32_t>(text.size()));
    n = cp.size();
  }
  bool is(size_t i, CharClass c) const { return i < n && cls[i] == c; }
  bool is_cp(size_t i, char32_t c) const { return i < n && cp[i] == c; }
  bool is_newline(size_t i) const { return i < n && (cp[i] == '\r' || cp[i] == '\n'); }
  size_t run_end(size_t i, CharClass c) const {
    while (i < n && cls[i] == c) ++i;
    return i;
  }
};

char32_t ascii_lower(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i: the match length in characters, or 0.
size_t contraction(const Chars& c, size_t i, bool ignore_case) {
  if (!c.is_cp(i, '\'') || i + 1 >= c.n) return 0;
  const auto at = [&](size_t k) { return ignore_case ? ascii_lower(c.cp[k]) : c.cp[k]; };
  const char32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 >= c.n) return 0;
  const char32_t b = at(i + 2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// \s+(?!\S) then \s+, at a whitespace character i.
size_t whitespace_tail(const Chars& c, size_t i) {
  const size_t e = c.run_end(i, CharClass::kSpace);
  if (e == c.n) return e;      // (?!\S) holds at the end of the text
  if (e - i >= 2) return e - 1;  // leave the last space to the next piece
  return e;                      // \s+
}

size_t match_gpt2(const Chars& c, size_t i) {
  if (const size_t k = contraction(c, i, false)) return i + k;
  for (CharClass cls : {CharClass::kLetter, CharClass::kNumber, CharClass::kOther}) {
    size_t j = i;
    if (c.is_cp(j, ' ') && c.is(j + 1, cls)) ++j;
    if (c.is(j, cls)) return c.run_end(j, cls);
  }
  if (c.is(i, CharClass::kSpace)) return whitespace_tail(c, i);
  return i + 1;  // unreachable: every class is covered above
}

size_t match_llama3(const Chars& c, size_t i, size_t max_digits) {
  if (const size_t k = contraction(c, i, true)) return i + k;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.is(i, CharClass::kLetter)) return c.run_end(i, CharClass::kLetter);
  if (!c.is_newline(i) && !c.is(i, CharClass::kNumber) && c.is(i + 1, CharClass::kLetter))
    return c.run_end(i + 1, CharClass::kLetter);
  // \p{N}{1,max}
  if (c.is(i, CharClass::kNumber)) {
    size_t j = i;
    while (j < c.n && j - i < max_digits && c.cls[j] == CharClass::kNumber) ++j;
    return j;
  }
  //  ?[^\s\p{L}\p{N}]+[\r\n]*
  {
    size_t j = i;
    if (c.is_cp(j, ' ') && c.is(j + 1, CharClass::kOther)) ++j;
    if (c.is(j, CharClass::kOther)) {
      j = c.run_end(j, CharClass::kOther);
      while (c.is_newline(j)) ++j;
      return j;
    }
  }
  if (c.is(i, CharClass::kSpace)) {
    // \s*[\r\n]+ ends after the last newline of the whitespace run.
    const size_t e = c.run_end(i, CharClass::kSpace);
    for (size_t k = e; k > i; --k)
      if (c.is_newline(k - 1)) return k;
    return whitespace_tail(c, i);
  }
  return i + 1;  // unreachable
}

}  // namespace

std::string_view split_pattern_regex(SplitPattern pattern) {
  switch (pattern) {
    case SplitPattern::kGpt2:
      return kGpt2Regex;
    case SplitPattern::kLlama3:
      return kLlama3Regex;
    case SplitPattern::kQwen2:
      return kQwen2Regex;
  }
  return {};
}

std::optional<SplitPattern> recognize_split_pattern(std::string_view regex) {
  for (SplitPattern p : {SplitPattern::kGpt2, SplitPattern::kLlama3, SplitPattern::kQwen2})
    if (regex == split_pattern_regex(p)) return p;
  return std::nullopt;
}

void find_split_matches(SplitPattern pattern, std::string_view text,
                        std::vector<std::pair<uint32_t, uint32_t>>& matches) {
  const Chars chars(text);
  for (size_t i = 0; i < chars.n;) {
    size_t end = 0;
    switch (pattern) {
      case SplitPattern::kGpt2:
        end = match_gpt2(chars, i);
        break;
      case SplitPattern::kLlama3:
        end = match_llama3(chars, i, 3);
        break;
      case SplitPattern::kQwen2:
        end = match_llama3(chars, i, 1);
        break;
    }
    if (end <= i) end = i + 1;
    matches.emplace_back(chars.offset[i], chars.offset[end]);
    i = end;
  }
}

}  // namespace seller::text
