// Encoding and decoding of HfTokenizer; the loaders live in tokenizer_json.cpp.
#include "trainer/text/hf_tokenizer.h"

#include <unordered_set>

#include "trainer/text/unicode.h"

namespace seller::text {

HfTokenizer::HfTokenizer(std::unique_ptr<BpeModel> model, AddedVocabulary added,
                         HfPipeline pipeline, std::string description)
    : model_(std::move(model)),
      added_(std::move(added)),
      pipeline_(std::move(pipeline)),
      description_(std::move(description)) {
  added_.build();
  std::unordered_set<int32_t> ids;
  ids.reserve(model_->size() + added_.tokens().size());
  for (const auto& entry : model_->vocab()) ids.insert(entry.second);
  for (const auto& t : added_.tokens()) ids.insert(t.id);
  vocab_size_ = static_cast<int32_t>(ids.size());
}

void HfTokenizer::set_special_ids(std::optional<int32_t> bos, std::optional<int32_t> eos,
                                  std::optional<int32_t> pad) {
  bos_id_ = bos;
  eos_id_ = eos;
  pad_id_ = pad;
}

void HfTokenizer::encode_segment(std::string_view text, bool at_text_start,
                                 std::vector<int32_t>& ids) const {
  const std::string normalized = apply_normalizers(pipeline_.normalizers, std::string(text));
  std::vector<Segment> segments;
  if (added_.has_tokens(true))
    added_.split(normalized, true, segments);
  else if (!normalized.empty())
    segments.push_back({normalized, -1});

  std::vector<Piece> pieces;
  for (size_t s = 0; s < segments.size(); ++s) {
    if (segments[s].id >= 0) {
      ids.push_back(segments[s].id);
      continue;
    }
    pieces.clear();
    const bool starts = at_text_start && segments[s].text.data() == normalized.data();
    pieces.push_back({std::string(segments[s].text), starts});
    apply_pre_tokenizers(pipeline_.pre_tokenizers, pieces);
    for (const Piece& piece : pieces) model_->tokenize(piece.text, ids);
  }
}

std::vector<int32_t> HfTokenizer::encode(std::string_view raw, bool add_special_tokens) const {
  const std::string text = to_valid_utf8(raw);
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<Segment> segments;
  added_.split(text, false, segments);
  for (const Segment& seg : segments) {
    if (seg.id >= 0)
      ids.push_back(seg.id);
    else
      encode_segment(seg.text, seg.text.data() == text.data(), ids);
  }
  if (!add_special_tokens || pipeline_.post_processor.single.empty()) return ids;
  std::vector<int32_t> out;
  out.reserve(ids.size() + 4);
  for (const TemplateItem& item : pipeline_.post_processor.single) {
    if (item.is_sequence)
      out.insert(out.end(), ids.begin(), ids.end());
    else
      out.insert(out.end(), item.special.begin(), item.special.end());
  }
  return out;
}

std::string HfTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (const AddedToken* t = added_.by_id(id)) {
      if (!(skip_special_tokens && t->special)) tokens.push_back(t->content);
    } else if (const std::string* s = model_->id_to_token(id)) {
      tokens.push_back(*s);
    }
  }
  return apply_decoders(pipeline_.decoders, std::move(tokens));
}

int32_t HfTokenizer::vocab_size() const { return vocab_size_; }

std::optional<int32_t> HfTokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* t = added_.by_content(token)) return t->id;
  return model_->token_to_id(token);
}

std::optional<std::string> HfTokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* t = added_.by_id(id)) return t->content;
  if (const std::string* s = model_->id_to_token(id)) return *s;
  return std::nullopt;
}

}  // namespace seller::text
