// BERT's tokenizer: BertNormalizer (clean text, CJK padding, NFD accent stripping, lowercase),
// BertPreTokenizer (whitespace and punctuation split), WordPiece (greedy longest-match-first
// with a continuation prefix) and the [CLS] ... [SEP] template, as the Hugging Face `tokenizers`
// library runs a BERT tokenizer.json. Invariants:
//   - ids equal tokenizers' for the same files (tests/unit/text/test_wordpiece.cpp checks real
//     texts against scripts/oracles/wordpiece_oracle.py);
//   - special tokens written literally in the text ("[SEP]") are matched on the raw text first,
//     as tokenizers' added vocabulary does;
//   - invalid UTF-8 is replaced (U+FFFD), which clean_text then drops;
//   - the truncation/padding settings stored in a tokenizer.json are ignored: callers pass
//     max_length (sentence-transformers also overrides them with its max_seq_length).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "trainer/text/added_vocabulary.h"
#include "trainer/text/bpe_model.h"  // StringHash

namespace seller::text {

struct WordPieceOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool lowercase = true;
  bool strip_accents = true;  // tokenizers: null means "same as lowercase"
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string continuing_prefix = "##";
  size_t max_input_chars_per_word = 100;
};

class WordPieceTokenizer {
 public:
  // vocab: token -> id (ids in [0, 2^24)). Throws seller::DataError naming source if a special
  // token is absent from the vocabulary.
  WordPieceTokenizer(TokenMap vocab, WordPieceOptions options, std::string source = "<memory>");

  // vocab.txt (one token per line, id = line number) with the settings of tokenizer_config.json
  // next to it when present (do_lower_case, strip_accents, tokenize_chinese_chars, tokens).
  static WordPieceTokenizer from_vocab_file(const std::filesystem::path& vocab_txt);
  // A tokenizer.json whose model is WordPiece (normalizer BertNormalizer or none).
  static WordPieceTokenizer from_tokenizer_json(const std::filesystem::path& path);
  // tokenizer.json when the folder has one, else vocab.txt. Throws DataError naming the folder.
  static WordPieceTokenizer from_folder(const std::filesystem::path& dir);

  // The stages, exposed for tests: normalized text, then its words.
  std::u32string normalize(std::string_view text) const;
  std::vector<std::u32string> pre_tokenize(const std::u32string& normalized) const;
  // Word pieces without special tokens.
  std::vector<int32_t> tokenize(std::string_view text) const;
  std::vector<std::string> tokenize_to_strings(std::string_view text) const;
  // [CLS] pieces [SEP]; max_length > 0 keeps the first max_length - 2 pieces.
  std::vector<int32_t> encode(std::string_view text, size_t max_length = 0) const;

  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string& id_to_token(int32_t id) const;
  size_t vocab_size() const { return id_to_token_.size(); }
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  void word_pieces(const std::u32string& word, std::vector<int32_t>& out) const;
  void tokenize_plain(std::string_view text, std::vector<int32_t>& out) const;

  WordPieceOptions options_;
  std::string source_;
  std::vector<std::string> id_to_token_;
  TokenMap token_to_id_;
  AddedVocabulary specials_;
  int32_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

}  // namespace seller::text
