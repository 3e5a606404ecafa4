// SentenceEncoder: loading of the sentence-transformers module list and batched inference.
// Only the module chain Transformer -> Pooling [-> Normalize] is accepted (what all-MiniLM-L6-v2
// and most BERT-family sentence encoders use); any other module (Dense, LayerNorm, ...) is a
// DataError naming modules.json rather than a silently different embedding.
#include "trainer/model/text_encoder/sentence_encoder.h"

#include <algorithm>
#include <fstream>
#include <numeric>

#include "trainer/core/error.h"
#include "trainer/data/shard/format.h"
#include "trainer/model/text_encoder/bert.h"
#include "trainer/text/wordpiece_tokenizer.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

uint64_t fnv1a(uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

uint32_t file_crc32(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(detail::concat("cannot open ", path.string()));
  std::vector<char> buf(1 << 20);
  uint32_t crc = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    crc = data::shard::crc32_update(crc, buf.data(), static_cast<size_t>(in.gcount()));
  }
  return crc;
}

// The model card's first "# " heading (sentence-transformers cards start with the model name).
std::string model_name(const fs::path& dir) {
  std::ifstream in(dir / "README.md");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("# ") && line.size() > 2 && line.size() < 100) return line.substr(2);
  const fs::path abs = fs::absolute(dir).lexically_normal();
  const std::string leaf =
      abs.filename().empty() ? abs.parent_path().filename().string() : abs.filename().string();
  return leaf == "model" ? abs.parent_path().filename().string() : leaf;
}

bool bool_key(const json& j, const char* key, const fs::path& file) {
  if (!j.contains(key)) return false;
  if (!j[key].is_boolean())
    throw DataError(
        detail::concat(file.string(), ": key '", key, "' must be a boolean, got ", j[key].dump()));
  return j[key].get<bool>();
}

}  // namespace

struct SentenceEncoder::Impl {
  explicit Impl(text::WordPieceTokenizer t) : tokenizer(std::move(t)) {}
  text::WordPieceTokenizer tokenizer;
  BertModel bert{nullptr};
  torch::Device device = torch::kCPU;
  PoolingMode pooling = PoolingMode::kMean;
  bool normalize = false;
  int64_t max_seq_length = 512;
  std::string name, fingerprint;
  int64_t texts_encoded = 0;
};

SentenceEncoder::SentenceEncoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SentenceEncoder::SentenceEncoder(SentenceEncoder&&) noexcept = default;
SentenceEncoder& SentenceEncoder::operator=(SentenceEncoder&&) noexcept = default;
SentenceEncoder::~SentenceEncoder() = default;

SentenceEncoder SentenceEncoder::load(const fs::path& dir, torch::Device device) {
  if (!fs::is_directory(dir))
    throw DataError(detail::concat(dir.string(), ": not a sentence-transformers folder"));
  const fs::path modules_file = dir / "modules.json";
  const json modules = read_json_file(modules_file);
  if (!modules.is_array())
    throw DataError(detail::concat(modules_file.string(), ": expected a list of modules"));
  fs::path transformer_dir, pooling_dir;
  bool normalize = false;
  for (const auto& m : modules) {
    const std::string type = m.is_object() ? m.value("type", "") : "";
    const std::string path = m.is_object() ? m.value("path", "") : "";
    if (type.ends_with(".Transformer") && transformer_dir.empty())
      transformer_dir = dir / path;
    else if (type.ends_with(".Pooling") && pooling_dir.empty())
      pooling_dir = dir / path;
    else if (type.ends_with(".Normalize") && !normalize)
      normalize = true;
    else
      throw DataError(detail::concat(modules_file.string(), ": module ", m.dump(),
                                     " is not supported (Transformer, Pooling, Normalize)"));
  }
  if (transformer_dir.empty() || pooling_dir.empty())
    throw DataError(
        detail::concat(modules_file.string(), ": needs a Transformer and a Pooling module"));

  auto impl = std::make_unique<Impl>(text::WordPieceTokenizer::from_folder(transformer_dir));
  impl->device = device;
  impl->normalize = normalize;
  impl->bert = load_bert_model(transformer_dir, device);

  const fs::path pooling_file = pooling_dir / "config.json";
  const json pool = read_json_file(pooling_file);
  const bool mean = bool_key(pool, "pooling_mode_mean_tokens", pooling_file);
  const bool cls = bool_key(pool, "pooling_mode_cls_token", pooling_file);
  const bool max = bool_key(pool, "pooling_mode_max_tokens", pooling_file);
  const bool sqrt_len = bool_key(pool, "pooling_mode_mean_sqrt_len_tokens", pooling_file);
  if (int(mean) + int(cls) + int(max) != 1 || sqrt_len)
    throw DataError(detail::concat(pooling_file.string(),
                                   ": exactly one of pooling_mode_mean_tokens, "
                                   "pooling_mode_cls_token, pooling_mode_max_tokens must be true, "
                                   "got ",
                                   pool.dump()));
  impl->pooling = mean ? PoolingMode::kMean : cls ? PoolingMode::kCls : PoolingMode::kMax;
  const int64_t hidden = impl->bert->config().hidden_size;
  if (pool.contains("word_embedding_dimension") && pool["word_embedding_dimension"] != hidden)
    throw DataError(detail::concat(pooling_file.string(), ": word_embedding_dimension ",
                                   pool["word_embedding_dimension"].dump(),
                                   " differs from hidden_size ", hidden));

  impl->max_seq_length = impl->bert->config().max_position_embeddings;
  const fs::path sbert_file = transformer_dir / "sentence_bert_config.json";
  if (fs::exists(sbert_file)) {
    const json sb = read_json_file(sbert_file);
    if (sb.contains("max_seq_length")) {
      if (!sb["max_seq_length"].is_number_integer() || sb["max_seq_length"].get<int64_t>() < 2)
        throw DataError(detail::concat(sbert_file.string(),
                                       ": key 'max_seq_length' must be an integer >= 2, got ",
                                       sb["max_seq_length"].dump()));
      impl->max_seq_length = std::min(impl->max_seq_length, sb["max_seq_length"].get<int64_t>());
    }
    if (bool_key(sb, "do_lower_case", sbert_file))
      throw DataError(
          detail::concat(sbert_file.string(), ": key 'do_lower_case' = true is not supported"));
  }

  impl->name = model_name(dir);
  const fs::path weights = transformer_dir / "model.safetensors";
  uint64_t h = 1469598103934665603ull;
  h = fnv1a(h, detail::concat("crc32=", file_crc32(weights), ";bytes=", fs::file_size(weights),
                              ";pooling=", static_cast<int>(impl->pooling),
                              ";normalize=", normalize, ";max_seq_length=", impl->max_seq_length,
                              ";vocab=", impl->tokenizer.vocab_size()));
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  impl->fingerprint = hex;
  return SentenceEncoder(std::move(impl));
}

torch::Tensor SentenceEncoder::encode(const std::vector<std::string>& texts, int64_t batch_size) {
  SELLER_THROW_IF_NOT(batch_size > 0, ConfigError, "encode batch_size must be positive, got ",
                      batch_size);
  Impl& m = *impl_;
  const int64_t n = static_cast<int64_t>(texts.size());
  auto out = torch::empty({n, dim()}, torch::kFloat32);
  std::vector<std::vector<int32_t>> ids(texts.size());
  for (size_t i = 0; i < texts.size(); ++i)
    ids[i] = m.tokenizer.encode(texts[i], static_cast<size_t>(m.max_seq_length));
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
    input = input.to(m.device);
    mask = mask.to(m.device);
    auto hidden = m.bert->forward(input, mask);  // [b, t, H]
    torch::Tensor pooled;
    const auto maskf = mask.unsqueeze(-1).to(hidden.dtype());
    if (m.pooling == PoolingMode::kMean) {
      pooled = (hidden * maskf).sum(1) / maskf.sum(1).clamp_min(1e-9);
    } else if (m.pooling == PoolingMode::kCls) {
      pooled = hidden.select(1, 0);
    } else {
      pooled = hidden.masked_fill(maskf == 0, -1e9).amax(1);
    }
    if (m.normalize)
      pooled = torch::nn::functional::normalize(
          pooled, torch::nn::functional::NormalizeFuncOptions().p(2).dim(1));
    pooled = pooled.to(torch::kCPU, torch::kFloat32);
    auto idx = torch::from_blob(order.data() + start, {b}, torch::kLong).clone();
    out.index_copy_(0, idx, pooled);
    m.texts_encoded += b;
  }
  return out;
}

int64_t SentenceEncoder::dim() const { return impl_->bert->config().hidden_size; }
const std::string& SentenceEncoder::name() const { return impl_->name; }
const std::string& SentenceEncoder::fingerprint() const { return impl_->fingerprint; }
int64_t SentenceEncoder::max_seq_length() const { return impl_->max_seq_length; }
PoolingMode SentenceEncoder::pooling() const { return impl_->pooling; }
bool SentenceEncoder::normalize() const { return impl_->normalize; }
int64_t SentenceEncoder::texts_encoded() const { return impl_->texts_encoded; }

}  // namespace seller::model
