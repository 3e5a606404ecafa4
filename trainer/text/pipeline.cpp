// Normalizers, pre-tokenizers and decoders on plain strings. The split behaviours follow
// tokenizers' NormalizedString::split (matches and gaps as one ordered list, then merged), and
// the decoders follow each Decoder::decode_chain.
#include "trainer/text/pipeline.h"

#include <string_view>
#include <utility>

#include "trainer/text/byte_level.h"
#include "trainer/text/nfc.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view with) {
  if (pattern.empty()) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t hit; (hit = text.find(pattern, pos)) != std::string_view::npos;) {
    out.append(text.substr(pos, hit - pos));
    out.append(with);
    pos = hit + pattern.size();
  }
  out.append(text.substr(pos));
  return out;
}

struct Span {
  size_t begin, end;
  bool is_match;
};

std::vector<Span> literal_matches(std::string_view text, std::string_view literal) {
  std::vector<Span> spans;
  size_t prev = 0;
  if (!literal.empty()) {
    for (size_t hit; (hit = text.find(literal, prev)) != std::string_view::npos;) {
      if (hit != prev) spans.push_back({prev, hit, false});
      spans.push_back({hit, hit + literal.size(), true});
      prev = hit + literal.size();
    }
  }
  if (prev != text.size()) spans.push_back({prev, text.size(), false});
  return spans;
}

std::vector<Span> apply_behavior(std::vector<Span> spans, SplitBehavior behavior) {
  std::vector<Span> out;
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      return spans;
    case SplitBehavior::kRemoved:
      for (const Span& s : spans)
        if (!s.is_match) out.push_back(s);
      return out;
    case SplitBehavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.is_match && !previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back({s.begin, s.end, false});
        previous_match = s.is_match;
      }
      return out;
    case SplitBehavior::kMergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty())
          out.back().begin = it->begin;
        else
          out.push_back({it->begin, it->end, false});
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    case SplitBehavior::kContiguous:
      for (const Span& s : spans) {
        if (s.is_match == previous_match && !out.empty())
          out.back().end = s.end;
        else
          out.push_back({s.begin, s.end, false});
        previous_match = s.is_match;
      }
      return out;
  }
  return spans;
}

void push_spans(const Piece& piece, const std::vector<Span>& spans, std::vector<Piece>& out) {
  for (const Span& s : spans)
    if (s.end > s.begin)
      out.push_back({piece.text.substr(s.begin, s.end - s.begin), piece.at_text_start && s.begin == 0});
}

std::vector<Span> regex_spans(SplitPattern pattern, std::string_view text) {
  std::vector<std::pair<uint32_t, uint32_t>> matches;
  find_split_matches(pattern, text, matches);
  std::vector<Span> spans;
  spans.reserve(matches.size());
  for (const auto& [b, e] : matches) spans.push_back({b, e, true});
  return spans;
}

void split_piece(const Piece& piece, const SplitPreTokenizer& split, std::vector<Piece>& out) {
  std::vector<Span> spans = split.regex ? regex_spans(*split.regex, piece.text)
                                        : literal_matches(piece.text, split.literal);
  if (split.invert)
    for (Span& s : spans) s.is_match = !s.is_match;
  push_spans(piece, apply_behavior(std::move(spans), split.behavior), out);
}

void byte_level_piece(Piece piece, const ByteLevelPreTokenizer& bl, std::vector<Piece>& out) {
  if (bl.add_prefix_space && !piece.text.starts_with(' ')) piece.text.insert(0, " ");
  const size_t first = out.size();
  if (bl.use_regex)
    push_spans(piece, regex_spans(SplitPattern::kGpt2, piece.text), out);
  else
    out.push_back(std::move(piece));
  for (size_t i = first; i < out.size(); ++i) out[i].text = bytes_to_chars(out[i].text);
}

void metaspace_piece(Piece piece, const MetaspacePreTokenizer& ms, std::vector<Piece>& out) {
  piece.text = replace_all(piece.text, " ", ms.replacement);
  const bool prepend = ms.prepend_scheme == PrependScheme::kAlways ||
                       (ms.prepend_scheme == PrependScheme::kFirst && piece.at_text_start);
  if (prepend && !piece.text.starts_with(ms.replacement)) piece.text.insert(0, ms.replacement);
  if (!ms.split) {
    out.push_back(std::move(piece));
    return;
  }
  push_spans(piece,
             apply_behavior(literal_matches(piece.text, ms.replacement),
                            SplitBehavior::kMergedWithNext),
             out);
}

}  // namespace

std::string apply_normalizers(const std::vector<Normalizer>& normalizers, std::string text) {
  for (const Normalizer& n : normalizers) {
    std::visit(Overloaded{
                   [&](const NfcNormalizer&) { text = nfc_normalize(text); },
                   [&](const PrependNormalizer& p) {
                     if (!text.empty()) text.insert(0, p.prepend);
                   },
                   [&](const ReplaceNormalizer& r) { text = replace_all(text, r.pattern, r.content); },
               },
               n);
  }
  return text;
}

void apply_pre_tokenizers(const std::vector<PreTokenizer>& pre_tokenizers,
                          std::vector<Piece>& pieces) {
  std::vector<Piece> next;
  for (const PreTokenizer& step : pre_tokenizers) {
    next.clear();
    for (Piece& piece : pieces) {
      if (piece.text.empty()) continue;
      std::visit(Overloaded{
                     [&](const SplitPreTokenizer& s) { split_piece(piece, s, next); },
                     [&](const ByteLevelPreTokenizer& b) { byte_level_piece(std::move(piece), b, next); },
                     [&](const MetaspacePreTokenizer& m) { metaspace_piece(std::move(piece), m, next); },
                 },
                 step);
    }
    pieces.swap(next);
  }
  std::erase_if(pieces, [](const Piece& p) { return p.text.empty(); });
}

namespace {

std::vector<std::string> decode_byte_level(const std::vector<std::string>& tokens) {
  std::string bytes;
  for (const std::string& token : tokens) {
    const size_t mark = bytes.size();
    bool mapped = true;
    for (size_t i = 0; i < token.size() && mapped;) {
      const DecodedChar d = decode_utf8(token, i);
      const auto b = d.valid ? char_to_byte(d.cp) : std::nullopt;
      if (b)
        bytes.push_back(static_cast<char>(*b));
      else
        mapped = false;
      i += d.len;
    }
    if (!mapped) {
      bytes.resize(mark);
      bytes += token;
    }
  }
  return {to_valid_utf8(bytes)};
}

std::optional<uint8_t> byte_token(const std::string& token) {
  if (token.size() != 6 || !token.starts_with("<0x") || token[5] != '>') return std::nullopt;
  int value = 0;
  for (size_t i = 3; i < 5; ++i) {
    const char c = token[i];
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else
      return std::nullopt;
    value = value * 16 + digit;
  }
  return static_cast<uint8_t>(value);
}

std::vector<std::string> decode_byte_fallback(const std::vector<std::string>& tokens) {
  std::vector<std::string> out;
  std::string pending;
  const auto flush = [&] {
    if (pending.empty()) return;
    if (is_valid_utf8(pending)) {
      out.push_back(pending);
    } else {
      for (size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
    }
    pending.clear();
  };
  for (const std::string& token : tokens) {
    if (auto b = byte_token(token)) {
      pending.push_back(static_cast<char>(*b));
      continue;
    }
    flush();
    out.push_back(token);
  }
  flush();
  return out;
}

std::vector<std::string> decode_strip(const std::vector<std::string>& tokens,
                                      const StripDecoder& strip) {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const std::string& token : tokens) {
    std::vector<std::pair<size_t, size_t>> chars;  // byte offset, length
    for (size_t i = 0; i < token.size();) {
      const uint32_t len = decode_utf8(token, i).len;
      chars.emplace_back(i, len);
      i += len;
    }
    const auto is_content = [&](size_t k) {
      return token.compare(chars[k].first, chars[k].second, strip.content) == 0;
    };
    size_t start_cut = 0;
    for (size_t k = 0; k < strip.start && k < chars.size() && is_content(k); ++k) start_cut = k + 1;
    size_t stop_cut = chars.size();
    for (size_t k = 0; k < strip.stop && k < chars.size(); ++k) {
      const size_t idx = chars.size() - k - 1;
      if (!is_content(idx)) break;
      stop_cut = idx;
    }
    if (start_cut >= stop_cut) {
      out.emplace_back();
      continue;
    }
    const size_t b = chars[start_cut].first;
    const size_t e = stop_cut == chars.size() ? token.size() : chars[stop_cut].first;
    out.push_back(token.substr(b, e - b));
  }
  return out;
}

}  // namespace

std::string apply_decoders(const std::vector<Decoder>& decoders, std::vector<std::string> tokens) {
  if (decoders.empty()) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) joined += ' ';
      joined += tokens[i];
    }
    return joined;
  }
  for (const Decoder& d : decoders) {
    tokens = std::visit(
        Overloaded{
            [&](const ByteLevelDecoder&) { return decode_byte_level(tokens); },
            [&](const MetaspaceDecoder& m) {
              std::vector<std::string> out;
              for (size_t i = 0; i < tokens.size(); ++i) {
                const bool drop = i == 0 && m.prepend_scheme != PrependScheme::kNever;
                out.push_back(replace_all(tokens[i], m.replacement, drop ? "" : " "));
              }
              return out;
            },
            [&](const ReplaceDecoder& r) {
              std::vector<std::string> out;
              for (const auto& t : tokens) out.push_back(replace_all(t, r.pattern, r.content));
              return out;
            },
            [&](const ByteFallbackDecoder&) { return decode_byte_fallback(tokens); },
            [&](const FuseDecoder&) {
              std::string joined;
              for (const auto& t : tokens) joined += t;
              return std::vector<std::string>{joined};
            },
            [&](const StripDecoder& s) { return decode_strip(tokens, s); },
        },
        d);
  }
  std::string joined;
  for (const auto& t : tokens) joined += t;
  return joined;
}

}  // namespace seller::text
