// Word-level tokenizer (word_tokenizer.h): splitting, vocabulary building, the vocab file.
#include "trainer/text/word_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <map>

#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"

namespace seller::text {
namespace {

constexpr const char* kSpecials[] = {"<pad>", "<bos>", "<eos>", "<unk>"};

bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool is_punct(unsigned char c) {
  return c < 0x80 && ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
                      (c >= '{' && c <= '~'));
}

bool is_word_char(unsigned char c) { return !is_space(c) && !is_punct(c); }

}  // namespace

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) out.push_back(std::move(word));
    word.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (is_space(c)) {
      flush();
    } else if (is_punct(c)) {
      // An apostrophe or hyphen between two word characters belongs to the word.
      const bool inner = (c == '\'' || c == '-') && !word.empty() && i + 1 < text.size() &&
                         is_word_char(static_cast<unsigned char>(text[i + 1]));
      if (inner) {
        word.push_back(static_cast<char>(c));
      } else {
        flush();
        out.emplace_back(1, static_cast<char>(c));
      }
    } else {
      word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a')
                                          : static_cast<char>(c));
    }
  }
  flush();
  return out;
}

WordTokenizer WordTokenizer::build(const std::vector<std::string>& texts, int64_t max_vocab,
                                   int64_t min_count) {
  SELLER_THROW_IF_NOT(max_vocab > 4, ConfigError, "word vocabulary size must be > 4, got ",
                      max_vocab);
  std::map<std::string, int64_t> counts;  // ordered: ties below resolve by byte order
  for (const auto& t : texts)
    for (auto& w : split_words(t)) ++counts[std::move(w)];
  for (const char* s : kSpecials) counts.erase(s);
  std::vector<std::pair<std::string, int64_t>> words;
  for (auto& [w, n] : counts)
    if (n >= min_count) words.emplace_back(w, n);
  std::stable_sort(words.begin(), words.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  WordTokenizer tok;
  for (const char* s : kSpecials) tok.tokens_.emplace_back(s);
  for (auto& [w, n] : words) {
    if (static_cast<int64_t>(tok.tokens_.size()) >= max_vocab) break;
    tok.tokens_.push_back(w);
  }
  tok.index();
  return tok;
}

void WordTokenizer::index() {
  ids_.clear();
  for (size_t i = 0; i < tokens_.size(); ++i) ids_.emplace(tokens_[i], static_cast<int32_t>(i));
  bos_id_ = kBos;
  eos_id_ = kEos;
  pad_id_ = kPad;
}

WordTokenizer WordTokenizer::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  SELLER_THROW_IF_NOT(in.good(), DataError, file.string(), ": cannot open word vocabulary");
  WordTokenizer tok;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    SELLER_THROW_IF_NOT(!line.empty() && line.find('\t') == std::string::npos, FormatError,
                        file.string(), ":", lineno, ": empty token or tab in a word vocabulary");
    if (lineno <= 4)
      SELLER_THROW_IF_NOT(line == kSpecials[lineno - 1], FormatError, file.string(), ":", lineno,
                          ": expected special token ", kSpecials[lineno - 1], ", got '", line, "'");
    tok.tokens_.push_back(line);
  }
  SELLER_THROW_IF_NOT(tok.tokens_.size() >= 4, FormatError, file.string(),
                      ": a word vocabulary starts with <pad> <bos> <eos> <unk>, found only ",
                      tok.tokens_.size(), " lines");
  tok.index();
  SELLER_THROW_IF_NOT(tok.ids_.size() == tok.tokens_.size(), FormatError, file.string(),
                      ": duplicate tokens in a word vocabulary");
  return tok;
}

void WordTokenizer::save(const std::filesystem::path& file) const {
  std::string text;
  for (const auto& t : tokens_) text += t + "\n";
  io::write_file_atomically(file, text);
}

std::vector<int32_t> WordTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> ids;
  if (add_special_tokens) ids.push_back(kBos);
  for (const auto& w : split_words(text)) {
    const auto it = ids_.find(w);
    ids.push_back(it == ids_.end() ? kUnk : it->second);
  }
  return ids;
}

std::string WordTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::string out;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    if (skip_special_tokens && id < kUnk) continue;  // <unk> stays visible
    if (!out.empty()) out.push_back(' ');
    out += tokens_[static_cast<size_t>(id)];
  }
  return out;
}

std::optional<int32_t> WordTokenizer::token_to_id(std::string_view token) const {
  const auto it = ids_.find(std::string(token));
  if (it == ids_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> WordTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= vocab_size()) return std::nullopt;
  return tokens_[static_cast<size_t>(id)];
}

std::string WordTokenizer::describe() const {
  return "word-level (" + std::to_string(tokens_.size()) + " tokens)";
}

}  // namespace seller::text
