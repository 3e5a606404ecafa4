// Implementation of the hashed TF-IDF embedder and cosine scoring (see text_embedding.h).
#include "eval/utility/text_embedding.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {

uint64_t fnv1a64(std::string_view bytes, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

CosineIndex::CosineIndex(FloatMatrix candidates) : m_(std::move(candidates)) {
  SELLER_CHECK(m_.data.size() == m_.rows * m_.cols);
  norms_.resize(m_.rows);
  for (size_t i = 0; i < m_.rows; ++i) {
    double s = 0;
    for (float v : m_.row(i)) s += static_cast<double>(v) * v;
    norms_[i] = static_cast<float>(std::sqrt(s));
  }
}

void CosineIndex::scores(std::span<const float> query, std::span<const uint32_t> rows,
                         std::span<float> out) const {
  SELLER_CHECK(query.size() == m_.cols, "query dim ", query.size(), " vs ", m_.cols);
  const size_t n = rows.empty() ? m_.rows : rows.size();
  SELLER_CHECK(out.size() == n);
  double qs = 0;
  std::vector<uint32_t> nz;
  for (size_t k = 0; k < query.size(); ++k)
    if (query[k] != 0.0f) {
      qs += static_cast<double>(query[k]) * query[k];
      nz.push_back(static_cast<uint32_t>(k));
    }
  const double qn = std::sqrt(qs);
  const bool sparse = nz.size() * 4 < query.size();
  for (size_t j = 0; j < n; ++j) {
    const size_t r = rows.empty() ? j : rows[j];
    SELLER_CHECK(r < m_.rows);
    if (qn == 0 || norms_[r] == 0) {
      out[j] = 0;
      continue;
    }
    const std::span<const float> c = m_.row(r);
    double dot = 0;
    if (sparse) {
      for (uint32_t k : nz) dot += static_cast<double>(query[k]) * c[k];
    } else {
      for (size_t k = 0; k < c.size(); ++k) dot += static_cast<double>(query[k]) * c[k];
    }
    out[j] = static_cast<float>(dot / (qn * norms_[r]));
  }
}

HashedTfidf::HashedTfidf(const std::vector<std::string>& fit_corpus,
                         const HashedTfidfOptions& options)
    : options_(options) {
  SELLER_THROW_IF_NOT(options.dim >= 1, ConfigError, "tfidf: dim must be >= 1");
  std::vector<int64_t> df(options.dim, 0);
  for (const auto& doc : fit_corpus) {
    std::vector<uint32_t> b = buckets(doc);
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    for (uint32_t x : b) ++df[x];
  }
  const double n = static_cast<double>(fit_corpus.size());
  idf_.resize(options.dim);
  for (uint32_t k = 0; k < options.dim; ++k)
    idf_[k] = static_cast<float>(std::log((1 + n) / (1 + static_cast<double>(df[k]))) + 1);
}

std::vector<uint32_t> HashedTfidf::buckets(std::string_view text) const {
  const std::vector<std::string> tokens = tokenize_rouge_score(text);
  std::vector<uint32_t> out;
  out.reserve(tokens.size() * (options_.bigrams ? 2 : 1));
  uint64_t prev = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const uint64_t h = fnv1a64(tokens[i]);
    out.push_back(static_cast<uint32_t>(h % options_.dim));
    // A bigram hashes the second word's bytes onto the first word's hash after a separator
    // byte, so "a b" never collides systematically with a unigram.
    if (options_.bigrams && i > 0)
      out.push_back(
          static_cast<uint32_t>(fnv1a64(tokens[i], fnv1a64("\x1f", prev)) % options_.dim));
    prev = h;
  }
  return out;
}

SparseVector HashedTfidf::transform(std::string_view text) const {
  std::vector<uint32_t> b = buckets(text);
  std::sort(b.begin(), b.end());
  SparseVector v;
  double norm = 0;
  for (size_t i = 0; i < b.size();) {
    size_t j = i;
    while (j < b.size() && b[j] == b[i]) ++j;
    const double w = (1 + std::log(static_cast<double>(j - i))) * idf_[b[i]];
    v.index.push_back(b[i]);
    v.value.push_back(static_cast<float>(w));
    norm += w * w;
    i = j;
  }
  if (norm > 0) {
    const double inv = 1 / std::sqrt(norm);
    for (float& x : v.value) x = static_cast<float>(x * inv);
  }
  return v;
}

TextEmbedder make_tfidf_embedder(const std::vector<std::string>& fit_corpus,
                                 const HashedTfidfOptions& options) {
  auto model = std::make_shared<HashedTfidf>(fit_corpus, options);
  TextEmbedder e;
  e.name = "tfidf";
  e.embed = [model](const std::vector<std::string>& texts) {
    FloatMatrix m;
    m.rows = texts.size();
    m.cols = model->dim();
    m.data.assign(m.rows * m.cols, 0.0f);
    for (size_t i = 0; i < texts.size(); ++i) {
      const SparseVector v = model->transform(texts[i]);
      auto row = m.row(i);
      for (size_t k = 0; k < v.index.size(); ++k) row[v.index[k]] = v.value[k];
    }
    return m;
  };
  return e;
}

}  // namespace seller::eval
