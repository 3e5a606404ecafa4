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

std::string join_python_split(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const auto& token : split_python_whitespace(text)) {
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

// Everything of Tokenizer13a before its final ' '.join(line.split()).
static std::string apply_13a_rules(std::string_view text) {
  // sacreBLEU's BLEU._preprocess_segment: tokenizer(sent.rstrip()).
  std::string line(rstrip_python_whitespace(text));
  replace_all(line, "<skipped>", "");
  replace_all(line, "-\n", "");
  replace_all(line, "\n", " ");
  if (line.find('&') != std::string::npos) {
    replace_all(line, "&quot;", "\"");
    replace_all(line, "&amp;", "&");
    replace_all(line, "&lt;", "<");
    replace_all(line, "&gt;", ">");
  }

  // Pass 1 on f' {line} ': punctuation (the class includes the space itself) gets spaces around.
  std::string a;
  a.reserve(line.size() * 2 + 4);
  const auto pass1 = [&a](char c) {
    if (is_13a_punctuation(c)) {
      a.push_back(' ');
      a.push_back(c);
      a.push_back(' ');
    } else {
      a.push_back(c);
    }
  };
  pass1(' ');
  for (char c : line) pass1(c);
  pass1(' ');

  // Pass 2: ([^0-9])([\.,]) -> '\1 \2 '
  std::string b;
  b.reserve(a.size() + a.size() / 4);
  for (size_t i = 0; i < a.size();) {
    if (i + 1 < a.size() && !is_digit(a[i]) && is_period_or_comma(a[i + 1])) {
      b.push_back(a[i]);
      b.push_back(' ');
      b.push_back(a[i + 1]);
      b.push_back(' ');
      i += 2;
    } else {
      b.push_back(a[i++]);
    }
  }

  // Pass 3: ([\.,])([^0-9]) -> ' \1 \2'
  a.clear();
  for (size_t i = 0; i < b.size();) {
    if (i + 1 < b.size() && is_period_or_comma(b[i]) && !is_digit(b[i + 1])) {
      a.push_back(' ');
      a.push_back(b[i]);
      a.push_back(' ');
      a.push_back(b[i + 1]);
      i += 2;
    } else {
      a.push_back(b[i++]);
    }
  }

  // Pass 4: ([0-9])(-) -> '\1 \2 '
  b.clear();
  for (size_t i = 0; i < a.size();) {
    if (i + 1 < a.size() && is_digit(a[i]) && a[i + 1] == '-') {
      b.push_back(a[i]);
      b.push_back(' ');
      b.push_back('-');
      b.push_back(' ');
      i += 2;
    } else {
      b.push_back(a[i++]);
    }
  }
  return b;
}

std::string normalize_13a(std::string_view text) {
  return join_python_split(apply_13a_rules(text));
}

std::vector<std::string> tokenize_13a(std::string_view text) {
  return split_python_whitespace(apply_13a_rules(text));
}

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
