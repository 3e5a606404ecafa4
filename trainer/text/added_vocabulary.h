// Added tokens of a tokenizer.json ("added_tokens"): strings matched in the text before the
// model sees it, as tokenizers' AddedVocabulary does: leftmost-longest matches, tokens with
// normalized=false matched on the raw text, those with normalized=true on the normalized text;
// single_word, lstrip and rstrip honoured. Invariants: segments returned by split() cover the
// input in order; a segment is either one added token (id >= 0) or text between tokens (id -1,
// never empty).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trainer/text/bpe_model.h"  // StringHash

namespace seller::text {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

struct Segment {
  std::string_view text;
  int32_t id;  // -1: plain text
};

class AddedVocabulary {
 public:
  // A later token with the same content replaces the earlier one. Call build() after the last
  // add() and before split().
  void add(AddedToken token);
  void build();

  // Splits text on the tokens whose `normalized` flag equals normalized.
  void split(std::string_view text, bool normalized, std::vector<Segment>& out) const;

  bool has_tokens(bool normalized) const;
  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  bool is_special(int32_t id) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> by_content_;
  bool built_ = false;
  // Per first byte, indices of tokens starting with it, longest first; one table per flag.
  std::vector<std::vector<size_t>> starts_[2];
};

}  // namespace seller::text
