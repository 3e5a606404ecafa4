// Implementation of the BERTScore-style embedding score (see embedding_score.h). Cosines are
// accumulated in double from float rows so that the figures do not depend on how the encoder
// normalised its rows, and the greedy maxima are plain loops over the (small) token matrices.
#include "eval/utility/embedding_score.h"

#include <cmath>
#include <limits>

#include "trainer/core/error.h"

namespace seller::eval {
namespace {

std::vector<double> row_norms(const FloatMatrix& m) {
  std::vector<double> norms(m.rows, 0.0);
  for (size_t i = 0; i < m.rows; ++i) {
    double s = 0;
    for (float v : m.row(i)) s += static_cast<double>(v) * v;
    norms[i] = std::sqrt(s);
  }
  return norms;
}

}  // namespace

double cosine(std::span<const float> a, std::span<const float> b) {
  SELLER_CHECK(a.size() == b.size());
  double dot = 0, na = 0, nb = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    dot += static_cast<double>(a[k]) * b[k];
    na += static_cast<double>(a[k]) * a[k];
    nb += static_cast<double>(b[k]) * b[k];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

TokenMatchScore greedy_match(const FloatMatrix& hyp, const FloatMatrix& ref) {
  SELLER_THROW_IF_NOT(hyp.rows == 0 || ref.rows == 0 || hyp.cols == ref.cols, DataError,
                      "embedding score: token vectors of ", hyp.cols, " and ", ref.cols,
                      " dimensions");
  TokenMatchScore s;
  if (hyp.rows == 0 || ref.rows == 0) return s;
  const std::vector<double> hn = row_norms(hyp), rn = row_norms(ref);
  constexpr double kLowest = std::numeric_limits<double>::lowest();
  std::vector<double> best_h(hyp.rows, kLowest), best_r(ref.rows, kLowest);
  for (size_t i = 0; i < hyp.rows; ++i) {
    const auto h = hyp.row(i);
    for (size_t j = 0; j < ref.rows; ++j) {
      const auto r = ref.row(j);
      double dot = 0;
      for (size_t k = 0; k < h.size(); ++k) dot += static_cast<double>(h[k]) * r[k];
      const double c = hn[i] == 0 || rn[j] == 0 ? 0.0 : dot / (hn[i] * rn[j]);
      if (c > best_h[i]) best_h[i] = c;
      if (c > best_r[j]) best_r[j] = c;
    }
  }
  for (double v : best_h) s.precision += v;
  for (double v : best_r) s.recall += v;
  s.precision /= static_cast<double>(hyp.rows);
  s.recall /= static_cast<double>(ref.rows);
  const double sum = s.precision + s.recall;
  s.f1 = sum > 0 ? 2 * s.precision * s.recall / sum : 0.0;
  return s;
}

std::vector<std::vector<double>> embedding_score_values(const TextEmbeddings& hyp,
                                                        const TextEmbeddings& ref,
                                                        const std::vector<size_t>* perm) {
  const size_t n = ref.tokens.size();
  SELLER_THROW_IF_NOT(hyp.tokens.size() == n, DataError, "embedding score: ", hyp.tokens.size(),
                      " texts but ", n, " references");
  SELLER_CHECK(hyp.sentences.rows == n && ref.sentences.rows == n);
  SELLER_CHECK(!perm || perm->size() == n);
  std::vector<std::vector<double>> values(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t h = perm ? (*perm)[i] : i;
    const TokenMatchScore m = greedy_match(hyp.tokens[h], ref.tokens[i]);
    values[i] = {m.precision, m.recall, m.f1, cosine(hyp.sentences.row(h), ref.sentences.row(i))};
  }
  return values;
}

std::vector<UtilityMetric> embedding_score_metrics() {
  return {{"bertscore_p", "BERTScore P", true, false, 4},
          {"bertscore_r", "BERTScore R", true, false, 4},
          {"bertscore_f1", "BERTScore F1", true, false, 4},
          {"sentence_cosine", "sentence cosine", true, false, 4}};
}

UtilityBlock embedding_score_block(const TokenTextEmbedder& embedder,
                                   const std::vector<EmbeddingSystem>& systems,
                                   const std::vector<std::string>& refs, uint64_t shuffle_seed) {
  SELLER_THROW_IF_NOT(!systems.empty() && systems.size() <= 2, DataError,
                      "embedding score: one or two systems, got ", systems.size());
  for (const auto& s : systems)
    SELLER_THROW_IF_NOT(s.texts && s.texts->size() == refs.size(), DataError,
                        "embedding score: system ", s.name, " has ", s.texts ? s.texts->size() : 0,
                        " texts for ", refs.size(), " references");
  UtilityBlock b;
  b.name = "embedding_score";
  b.method = embedder.name +
             " (last hidden states, special tokens excluded): BERTScore-style greedy cosine "
             "matching, no idf weighting, no baseline rescaling; sentence cosine of the pooled "
             "embeddings";
  b.encoder = embedder.name;
  b.metrics = embedding_score_metrics();
  const TextEmbeddings ref = embedder.embed(refs);
  TextEmbeddings first;
  for (size_t k = 0; k < systems.size(); ++k) {
    TextEmbeddings hyp = embedder.embed(*systems[k].texts);
    b.conditions.push_back(systems[k].name);
    b.values.push_back(embedding_score_values(hyp, ref));
    if (k == 0) first = std::move(hyp);
  }
  // The shuffled control: an unrelated explanation of the same system against each reference.
  const std::vector<size_t> perm = seeded_derangement(refs.size(), shuffle_seed);
  b.conditions.push_back("shuffled");
  b.values.push_back(embedding_score_values(first, ref, &perm));
  const size_t sh = b.conditions.size() - 1;
  b.tests.push_back({sh, 0});
  if (systems.size() == 2) b.tests.push_back({0, 1});
  return b;
}

}  // namespace seller::eval
