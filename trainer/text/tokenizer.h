// The tokenizer interface of seller and its loader. One call, Tokenizer::load, opens what users
// bring from Hugging Face or llama2.c:
//   - a tokenizer.json (a file, or a directory holding one): BPE model, byte-level as in GPT-2,
//     Llama-3 and Qwen, or SentencePiece-style with Metaspace and byte fallback;
//   - a directory with vocab.json + merges.txt (GPT-2's original files);
//   - a SentencePiece *.model file, or a directory holding exactly one (through the SentencePiece
//     library; an error when seller was built without it).
// In a directory, tokenizer.json wins over vocab.json + merges.txt, which win over *.model.
// bos/eos/pad ids come from tokenizer_config.json beside the file when present, else from the
// post-processor template (bos) or the model itself. Invariants:
//   - encode gives the ids the Hugging Face `tokenizers` library gives (SentencePiece models: the
//     `sentencepiece` library); tests/unit/text/test_tokenizer_parity.cpp checks it on real text;
//   - encode and decode are const and thread-safe;
//   - input that is not valid UTF-8 is read with each invalid subpart replaced by U+FFFD;
//   - a file that cannot be read, parsed or that uses an unsupported component throws
//     seller::DataError naming the file and the component.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seller::text {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  static std::unique_ptr<Tokenizer> load(const std::filesystem::path& path_or_dir);
  // A tokenizer.json given as text; origin names it in error messages.
  static std::unique_ptr<Tokenizer> from_json_string(std::string_view json,
                                                     const std::string& origin);

  // add_special_tokens applies the post-processor (e.g. Llama's BOS); added tokens written in
  // the text (e.g. "<|im_start|>") are matched either way.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const = 0;
  // Ids outside the vocabulary are skipped, as in `tokenizers`; bytes that do not form UTF-8
  // become U+FFFD.
  virtual std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const = 0;

  // Number of distinct ids, added tokens included (tokenizers' get_vocab_size(True)).
  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  // "tokenizer.json BPE (byte-level)", "sentencepiece", ... for logs.
  virtual std::string describe() const = 0;

  std::optional<int32_t> bos_id() const { return bos_id_; }
  std::optional<int32_t> eos_id() const { return eos_id_; }
  std::optional<int32_t> pad_id() const { return pad_id_; }

 protected:
  std::optional<int32_t> bos_id_, eos_id_, pad_id_;
  friend void apply_tokenizer_config(Tokenizer& tokenizer, const std::filesystem::path& config);
};

// Reads bos_token, eos_token and pad_token (strings or {"content": ...}) of a
// tokenizer_config.json into tokenizer; tokens it does not know are ignored.
void apply_tokenizer_config(Tokenizer& tokenizer, const std::filesystem::path& config);

}  // namespace seller::text
