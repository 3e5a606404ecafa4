// A Hugging Face `tokenizers` pipeline with a BPE model: added tokens, normalizers,
// pre-tokenizers, BPE, post-processor; and for decoding the decoder chain. Built from a
// tokenizer.json (tokenizer_json.cpp) or from GPT-2's vocab.json + merges.txt. Encoding order,
// as tokenizers does it: split the raw text on added tokens with normalized=false, normalize
// the rest, split on added tokens with normalized=true, pre-tokenize each remaining segment,
// run BPE on each piece, then apply the post-processor when add_special_tokens is set.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "trainer/text/added_vocabulary.h"
#include "trainer/text/bpe_model.h"
#include "trainer/text/pipeline.h"
#include "trainer/text/tokenizer.h"

namespace seller::text {

struct HfPipeline {
  std::vector<Normalizer> normalizers;
  std::vector<PreTokenizer> pre_tokenizers;
  PostProcessor post_processor;
  std::vector<Decoder> decoders;
};

class HfTokenizer final : public Tokenizer {
 public:
  HfTokenizer(std::unique_ptr<BpeModel> model, AddedVocabulary added, HfPipeline pipeline,
              std::string description);

  // tokenizer.json text; origin names the file in errors.
  static std::unique_ptr<HfTokenizer> from_json(std::string_view json, const std::string& origin);
  // GPT-2's files: byte-level BPE with GPT-2's pattern, <|endoftext|> as special token (as
  // transformers' GPT2TokenizerFast).
  static std::unique_ptr<HfTokenizer> from_vocab_merges(const std::filesystem::path& vocab_json,
                                                        const std::filesystem::path& merges_txt);

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  int32_t vocab_size() const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  std::string describe() const override { return description_; }

  void set_special_ids(std::optional<int32_t> bos, std::optional<int32_t> eos,
                       std::optional<int32_t> pad);
  const HfPipeline& pipeline() const { return pipeline_; }

 private:
  void encode_segment(std::string_view text, bool at_text_start, std::vector<int32_t>& ids) const;

  std::unique_ptr<BpeModel> model_;
  AddedVocabulary added_;
  HfPipeline pipeline_;
  std::string description_;
  int32_t vocab_size_ = 0;
};

}  // namespace seller::text
