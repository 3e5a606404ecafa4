// A word-level tokenizer for LLMs trained from scratch on review text (llm.init = scratch), the
// vocabulary that PETER/PEPLER-style explanation models use: lowercase words and single
// punctuation marks, the most frequent words of the training reviews, everything else <unk>.
//
// Invariants:
//   - ids 0..3 are <pad>, <bos>, <eos>, <unk>; words follow by descending count, ties by byte
//     order, so build() is a pure function of its input;
//   - encode splits like split_words() and never fails (unknown words map to <unk>);
//     decode joins words with single spaces and skips the special tokens when asked;
//   - the file format is one token per line (UTF-8, no tabs or newlines in tokens), written
//     atomically; load() rejects a file whose first four lines are not the special tokens,
//     naming the file and line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trainer/text/tokenizer.h"

namespace seller::text {

// Lowercased words (ASCII letters lowered; other bytes kept) and single ASCII punctuation marks
// as separate tokens; apostrophes and hyphens inside a word stay in it ("don't", "e-reader").
std::vector<std::string> split_words(std::string_view text);

class WordTokenizer : public Tokenizer {
 public:
  static constexpr int32_t kPad = 0, kBos = 1, kEos = 2, kUnk = 3;

  // The specials plus the (max_vocab - 4) most frequent words seen at least min_count times.
  static WordTokenizer build(const std::vector<std::string>& texts, int64_t max_vocab,
                             int64_t min_count);
  static WordTokenizer load(const std::filesystem::path& file);
  void save(const std::filesystem::path& file) const;

  // add_special_tokens prepends <bos>.
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  int32_t vocab_size() const override { return static_cast<int32_t>(tokens_.size()); }
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  std::string describe() const override;

 private:
  WordTokenizer() = default;
  void index();

  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

}  // namespace seller::text
