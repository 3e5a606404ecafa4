// Implementation of the eval embedders over the project's text encoder (see embedder.h). The
// token encoder loads the SentenceEncoder once for its validated settings (module chain, pooling,
// normalisation, max_seq_length, name) and runs its own tokenizer + BertModel copy, because the
// SentenceEncoder keeps the hidden states private; pooling below repeats sentence_encoder.cpp's
// rule so that sentence rows equal SentenceEncoder::encode (tests/model/test_embedding_score.cpp).
#include "trainer/model/text_encoder/embedder.h"

#include <algorithm>
#include <numeric>

#include "trainer/core/error.h"
#include "trainer/model/text_encoder/bert.h"
#include "trainer/text/wordpiece_tokenizer.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;

// The Transformer module's folder of a sentence-transformers folder (SentenceEncoder::load has
// already rejected any other layout).
fs::path transformer_dir(const fs::path& dir) {
  for (const auto& m : read_json_file(dir / "modules.json"))
    if (m.is_object() && m.value("type", "").ends_with(".Transformer"))
      return dir / m.value("path", "");
  throw DataError(detail::concat((dir / "modules.json").string(), ": no Transformer module"));
}

}  // namespace

eval::FloatMatrix to_float_matrix(const torch::Tensor& t) {
  SELLER_CHECK(t.dim() == 2);
  const auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
  eval::FloatMatrix m;
  m.rows = static_cast<size_t>(c.size(0));
  m.cols = static_cast<size_t>(c.size(1));
  m.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + m.rows * m.cols);
  return m;
}

eval::TextEmbedder make_sentence_embedder(std::shared_ptr<SentenceEncoder> encoder,
                                          int64_t batch_size) {
  eval::TextEmbedder e;
  e.name = encoder->name();
  e.embed = [encoder, batch_size](const std::vector<std::string>& texts) {
    if (texts.empty()) return eval::FloatMatrix{0, static_cast<size_t>(encoder->dim()), {}};
    return to_float_matrix(encoder->encode(texts, batch_size));
  };
  return e;
}

struct TokenEncoder::Impl {
  SentenceEncoder sentence;
  text::WordPieceTokenizer tokenizer;
  BertModel bert{nullptr};
  torch::Device device = torch::kCPU;
};

TokenEncoder::TokenEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TokenEncoder::~TokenEncoder() = default;

std::shared_ptr<TokenEncoder> TokenEncoder::load(const fs::path& dir, torch::Device device) {
  SentenceEncoder sentence = SentenceEncoder::load(dir, device);
  const fs::path tdir = transformer_dir(dir);
  auto impl = std::make_unique<Impl>(
      Impl{std::move(sentence), text::WordPieceTokenizer::from_folder(tdir), nullptr, device});
  impl->bert = load_bert_model(tdir, device);
  return std::shared_ptr<TokenEncoder>(new TokenEncoder(std::move(impl)));
}

const std::string& TokenEncoder::name() const { return impl_->sentence.name(); }
int64_t TokenEncoder::dim() const { return impl_->sentence.dim(); }

eval::TextEmbeddings TokenEncoder::embed(const std::vector<std::string>& texts,
                                         int64_t batch_size) {
  SELLER_THROW_IF_NOT(batch_size > 0, ConfigError, "embed batch_size must be positive, got ",
                      batch_size);
  Impl& m = *impl_;
  const int64_t n = static_cast<int64_t>(texts.size());
  const int64_t hidden_size = dim();
  eval::TextEmbeddings out;
  out.tokens.resize(texts.size());
  out.sentences.rows = texts.size();
  out.sentences.cols = static_cast<size_t>(hidden_size);
  out.sentences.data.assign(texts.size() * out.sentences.cols, 0.0f);
  std::vector<std::vector<int32_t>> ids(texts.size());
  const auto max_len = static_cast<size_t>(m.sentence.max_seq_length());
  for (size_t i = 0; i < texts.size(); ++i) ids[i] = m.tokenizer.encode(texts[i], max_len);
  // Longest first, so that each batch pads to nearly its own length.
  std::vector<int64_t> order(texts.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return ids[a].size() > ids[b].size(); });
  torch::InferenceMode guard;
  for (int64_t start = 0; start < n; start += batch_size) {
    const int64_t b = std::min(batch_size, n - start);
    const int64_t t = static_cast<int64_t>(ids[order[start]].size());
    auto input = torch::full({b, t}, m.tokenizer.pad_id(), torch::kLong);
    auto mask = torch::zeros({b, t}, torch::kLong);
    auto in_a = input.accessor<int64_t, 2>();
    auto mask_a = mask.accessor<int64_t, 2>();
    for (int64_t r = 0; r < b; ++r) {
      const auto& row = ids[order[start + r]];
      for (size_t k = 0; k < row.size(); ++k) {
        in_a[r][static_cast<int64_t>(k)] = row[k];
        mask_a[r][static_cast<int64_t>(k)] = 1;
      }
    }
    const auto hidden = m.bert->forward(input.to(m.device), mask.to(m.device));  // [b, t, H]
    const auto maskf = mask.to(m.device).unsqueeze(-1).to(hidden.dtype());
    torch::Tensor pooled;
    if (m.sentence.pooling() == PoolingMode::kMean) {
      pooled = (hidden * maskf).sum(1) / maskf.sum(1).clamp_min(1e-9);
    } else if (m.sentence.pooling() == PoolingMode::kCls) {
      pooled = hidden.select(1, 0);
    } else {
      pooled = hidden.masked_fill(maskf == 0, -1e9).amax(1);
    }
    if (m.sentence.normalize())
      pooled = torch::nn::functional::normalize(
          pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    const auto pooled_cpu = pooled.to(torch::kCPU, torch::kFloat32).contiguous();
    const auto hidden_cpu = hidden.to(torch::kCPU, torch::kFloat32).contiguous();
    for (int64_t r = 0; r < b; ++r) {
      const auto i = static_cast<size_t>(order[start + r]);
      const float* p = pooled_cpu[r].data_ptr<float>();
      std::copy(p, p + hidden_size, out.sentences.row(i).begin());
      // Real tokens are [CLS] w1 .. wn [SEP]: rows 1 .. len-2 (none for an empty text).
      const int64_t len = static_cast<int64_t>(ids[i].size());
      const int64_t words = std::max<int64_t>(0, len - 2);
      eval::FloatMatrix& tok = out.tokens[i];
      tok.rows = static_cast<size_t>(words);
      tok.cols = static_cast<size_t>(hidden_size);
      if (words > 0) {
        const float* h = hidden_cpu[r][1].data_ptr<float>();
        tok.data.assign(h, h + words * hidden_size);
      }
    }
  }
  return out;
}

eval::TokenTextEmbedder make_token_embedder(std::shared_ptr<TokenEncoder> encoder,
                                            int64_t batch_size) {
  eval::TokenTextEmbedder e;
  e.name = encoder->name();
  e.embed = [encoder, batch_size](const std::vector<std::string>& texts) {
    return encoder->embed(texts, batch_size);
  };
  return e;
}

}  // namespace seller::model
