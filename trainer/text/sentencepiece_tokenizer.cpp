// Adapter from sentencepiece::SentencePieceProcessor to seller::text::Tokenizer.
#include "trainer/text/sentencepiece_tokenizer.h"

#include "trainer/core/error.h"
#include "trainer/text/unicode.h"

#ifdef SELLER_HAVE_SENTENCEPIECE
#include <sentencepiece_processor.h>
#endif

namespace seller::text {

#ifdef SELLER_HAVE_SENTENCEPIECE
namespace {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(const std::filesystem::path& file) : file_(file) {
    const auto status = sp_.Load(file.string());
    SELLER_THROW_IF_NOT(status.ok(), DataError, file.string(),
                        ": cannot load SentencePiece model: ", status.ToString());
    const auto id_or_none = [](int id) { return id >= 0 ? std::optional<int32_t>(id) : std::nullopt; };
    bos_id_ = id_or_none(sp_.bos_id());
    eos_id_ = id_or_none(sp_.eos_id());
    pad_id_ = id_or_none(sp_.pad_id());
  }

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override {
    std::vector<int> ids;
    const auto status = sp_.Encode(to_valid_utf8(text), &ids);
    SELLER_CHECK(status.ok(), "SentencePiece Encode failed: ", status.ToString());
    std::vector<int32_t> out;
    out.reserve(ids.size() + 1);
    if (add_special_tokens && bos_id_) out.push_back(*bos_id_);
    out.insert(out.end(), ids.begin(), ids.end());
    return out;
  }

  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens) const override {
    std::vector<int> keep;
    keep.reserve(ids.size());
    const int n = sp_.GetPieceSize();
    for (int32_t id : ids) {
      if (id < 0 || id >= n) continue;
      if (skip_special_tokens && sp_.IsControl(id)) continue;
      keep.push_back(id);
    }
    std::string out;
    const auto status = sp_.Decode(keep, &out);
    SELLER_CHECK(status.ok(), "SentencePiece Decode failed: ", status.ToString());
    return out;
  }

  int32_t vocab_size() const override { return sp_.GetPieceSize(); }

  std::optional<int32_t> token_to_id(std::string_view token) const override {
    const int id = sp_.PieceToId(token);
    if (id < 0 || sp_.IdToPiece(id) != token) return std::nullopt;
    return id;
  }

  std::optional<std::string> id_to_token(int32_t id) const override {
    if (id < 0 || id >= sp_.GetPieceSize()) return std::nullopt;
    return sp_.IdToPiece(id);
  }

  std::string describe() const override { return "sentencepiece " + file_.filename().string(); }

 private:
  std::filesystem::path file_;
  sentencepiece::SentencePieceProcessor sp_;
};

}  // namespace

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  return std::make_unique<SentencePieceTokenizer>(model_file);
}
bool have_sentencepiece() { return true; }

#else

std::unique_ptr<Tokenizer> load_sentencepiece(const std::filesystem::path& model_file) {
  throw DataError(model_file.string() +
                  ": a SentencePiece model, but seller was built without the SentencePiece "
                  "library (Debian: apt-get install libsentencepiece-dev, then reconfigure)");
}
bool have_sentencepiece() { return false; }

#endif

}  // namespace seller::text
