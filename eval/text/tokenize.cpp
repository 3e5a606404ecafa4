// Implementation of the metric tokenizers (see tokenize.h). Each regular-expression step of the
// Python originals is a single left-to-right pass here; a pass whose pattern always matches two
// characters resumes after the match, which is exactly re.sub's leftmost non-overlapping rule.
// The passes work on bytes: every pattern character is ASCII, and a UTF-8 lead or continuation
// byte matches the same classes ([^0-9], not [.,]) as the code point it belongs to.
#include "eval/text/tokenize.h"

#include "eval/text/utf8.h"

namespace seller::eval {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  size_t pos = 0;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
  }
  out.append(s, pos, std::string::npos);
  s.swap(out);
}

// re.sub('c+', to, s): every maximal run of the character c becomes `to`.
void replace_runs(std::string& s, char c, std::string_view to) {
  if (s.find(c) == std::string::npos) return;
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    if (s[i] == c) {
      while (i < s.size() && s[i] == c) ++i;
      out.append(to);
    } else {
      out.push_back(s[i++]);
    }
  }
  s.swap(out);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_period_or_comma(char c) { return c == '.' || c == ','; }

// The character class [\{-\~\[-\` -\&\(-\+\:-\@\/] of sacreBLEU's TokenizerRegexp.
bool is_13a_punctuation(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x7B && u <= 0x7E) || (u >= 0x5B && u <= 0x60) || (u >= 0x20 && u <= 0x26) ||
         (u >= 0x28 && u <= 0x2B) || (u >= 0x3A && u <= 0x40) || u == '/';
}

// ' '.join(tokens).
std::string join_tokens(const std::vector<std::string>& tokens) {
  std::string out;
  for (const auto& token : tokens) {
    if (!out.empty()) out.push_back(' ');
    out += token;
  }
  return out;
}

}  // namespace

std::string_view tokenizer_name(Tokenizer tokenizer) {
  switch (tokenizer) {
    case Tokenizer::kPeter:
      return "peter";
    case Tokenizer::kSacre13a:
      return "13a";
    case Tokenizer::kRougeScore:
      return "rouge_score";
    case Tokenizer::kWhitespace:
      return "whitespace";
  }
  return "unknown";
}

std::vector<std::string> tokenize_peter(std::string_view text) {
  std::string s(text);
  replace_all(s, "'s", " 's");
  replace_all(s, "'m", " 'm");
  replace_all(s, "'ve", " 've");
  replace_all(s, "n't", " n't");
  replace_all(s, "'re", " 're");
  replace_all(s, "'d", " 'd");
  replace_all(s, "'ll", " 'll");
  replace_all(s, "(", " ( ");
  replace_all(s, ")", " ) ");
  replace_runs(s, ',', " , ");
  replace_runs(s, ':', " , ");  // PEPLER maps colons to commas
  replace_runs(s, ';', " . ");  // and semicolons to periods
  replace_runs(s, '.', " . ");
  replace_runs(s, '!', " ! ");
  replace_runs(s, '?', " ? ");
  // PEPLER then squeezes spaces and strips; str.split() makes both steps redundant.
  return split_python_whitespace(s);
}

// Python's str.isspace() for an ASCII byte: \t \n \v \f \r, U+001C..U+001F and the space.
static bool is_ascii_python_space(unsigned char c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

static bool is_ascii(std::string_view s) {
  unsigned char any = 0;
  for (char c : s) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// One regex pass "(X)(Y) -> replacement" over [in, in + n) into out (sized by the caller for the
// worst case, 2 output bytes per input byte), resuming after each match as re.sub does.
// Returns the output length.
template <typename Match, typename Emit>
static size_t pair_pass(const char* in, size_t n, char* out, Match match, Emit emit) {
  char* o = out;
  size_t i = 0;
  while (i + 1 < n) {
    if (match(in[i], in[i + 1])) {
      o = emit(o, in[i], in[i + 1]);
      i += 2;
    } else {
      *o++ = in[i++];
    }
  }
  if (i < n) *o++ = in[i];
  return static_cast<size_t>(o - out);
}

// Everything of Tokenizer13a before its final ' '.join(line.split()), written into `out`; sets
// `ascii` when the text is pure ASCII (the caller may then split on ASCII whitespace). Speed
// (the 1M-pair benchmark, docs/eval.md): the preprocessing replacements run only when their
// trigger bytes occur, passes 2-3 only when '.' or ',' occurs and pass 4 only when '-' does
// (otherwise they are the identity), and every pass writes through a raw pointer into a
// thread-local buffer sized for its worst case, so a segment costs no heap allocation.
static void apply_13a_rules(std::string_view text, std::string& out, bool& ascii) {
  thread_local std::string pre, tmp;
  ascii = is_ascii(text);
  // sacreBLEU's BLEU._preprocess_segment: tokenizer(sent.rstrip()).
  std::string_view line;
  if (ascii) {
    size_t end = text.size();
    while (end > 0 && is_ascii_python_space(static_cast<unsigned char>(text[end - 1]))) --end;
    line = text.substr(0, end);
  } else {
    line = rstrip_python_whitespace(text);
  }
  if (line.find_first_of("<\n&") != std::string_view::npos) {
    pre.assign(line);
    replace_all(pre, "<skipped>", "");
    replace_all(pre, "-\n", "");
    replace_all(pre, "\n", " ");
    if (pre.find('&') != std::string::npos) {
      replace_all(pre, "&quot;", "\"");
      replace_all(pre, "&amp;", "&");
      replace_all(pre, "&lt;", "<");
      replace_all(pre, "&gt;", ">");
    }
    line = pre;
  }
  const bool periods = line.find_first_of(".,") != std::string_view::npos;
  const bool hyphens = line.find('-') != std::string_view::npos;

  // Pass 1 on f' {line} ': punctuation (the class includes the space itself) gets spaces around.
  const size_t cap1 = 3 * line.size() + 6;
  const size_t cap = cap1 << ((periods ? 2 : 0) + (hyphens ? 1 : 0));
  if (out.size() < cap) out.resize(cap);
  if (tmp.size() < cap) tmp.resize(cap);
  char* a = out.data();
  size_t n = 0;
  const auto pass1 = [a, &n](char c) {
    if (is_13a_punctuation(c)) {
      a[n] = ' ';
      a[n + 1] = c;
      a[n + 2] = ' ';
      n += 3;
    } else {
      a[n++] = c;
    }
  };
  pass1(' ');
  for (char c : line) pass1(c);
  pass1(' ');

  char* b = tmp.data();
  if (periods) {
    // Pass 2: ([^0-9])([\.,]) -> '\1 \2 '
    n = pair_pass(
        a, n, b, [](char x, char y) { return !is_digit(x) && is_period_or_comma(y); },
        [](char* o, char x, char y) {
          o[0] = x;
          o[1] = ' ';
          o[2] = y;
          o[3] = ' ';
          return o + 4;
        });
    // Pass 3: ([\.,])([^0-9]) -> ' \1 \2'
    n = pair_pass(
        b, n, a, [](char x, char y) { return is_period_or_comma(x) && !is_digit(y); },
        [](char* o, char x, char y) {
          o[0] = ' ';
          o[1] = x;
          o[2] = ' ';
          o[3] = y;
          return o + 4;
        });
  }
  if (hyphens) {
    // Pass 4: ([0-9])(-) -> '\1 \2 '
    n = pair_pass(
        a, n, b, [](char x, char y) { return is_digit(x) && y == '-'; },
        [](char* o, char x, char) {
          o[0] = x;
          o[1] = ' ';
          o[2] = '-';
          o[3] = ' ';
          return o + 4;
        });
    std::copy(b, b + n, a);
  }
  out.resize(n);
}

// str.split() of an ASCII string: runs of ASCII Python whitespace.
static void split_ascii(std::string_view s, std::vector<std::string>& tokens) {
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_ascii_python_space(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !is_ascii_python_space(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) tokens.emplace_back(s.data() + start, i - start);
  }
}

static std::vector<std::string> tokens_13a(std::string_view text) {
  thread_local std::string rules;
  bool ascii = false;
  apply_13a_rules(text, rules, ascii);
  if (!ascii) return split_python_whitespace(rules);
  std::vector<std::string> tokens;
  tokens.reserve(rules.size() / 4 + 1);
  split_ascii(rules, tokens);
  return tokens;
}

std::string normalize_13a(std::string_view text) { return join_tokens(tokens_13a(text)); }

std::vector<std::string> tokenize_13a(std::string_view text) { return tokens_13a(text); }

std::vector<std::string> tokenize_rouge_score(std::string_view text) {
  std::vector<std::string> tokens;
  std::string current;
  const auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (size_t pos = 0; pos < text.size();) {
    size_t len;
    const char32_t cp = decode_utf8(text, pos, len);
    pos += len;
    if (cp < 0x80) {
      char c = static_cast<char>(cp);
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if ((c >= 'a' && c <= 'z') || is_digit(c)) {
        current.push_back(c);
      } else {
        flush();
      }
    } else if (cp == 0x212A) {  // KELVIN SIGN: str.lower() gives ASCII 'k'
      current.push_back('k');
    } else if (cp == 0x130) {  // LATIN CAPITAL I WITH DOT: lower() gives "i\u0307"
      current.push_back('i');
      flush();
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

std::vector<std::string> tokenize(std::string_view text, Tokenizer tokenizer) {
  switch (tokenizer) {
    case Tokenizer::kPeter:
      return tokenize_peter(text);
    case Tokenizer::kSacre13a:
      return tokenize_13a(text);
    case Tokenizer::kRougeScore:
      return tokenize_rouge_score(text);
    case Tokenizer::kWhitespace:
      return split_python_whitespace(text);
  }
  return {};
}

std::vector<std::vector<std::string>> tokenize_corpus(const std::vector<std::string>& texts,
                                                      Tokenizer tokenizer) {
  std::vector<std::vector<std::string>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(tokenize(t, tokenizer));
  return out;
}

}  // namespace seller::eval
