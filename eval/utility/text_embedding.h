// Text similarity for the utility metrics, as an interface: an embedder turns a list of texts
// into a float matrix (one row per text) and similarity is the cosine of two rows. Today's
// embedder is a torch-free hashed TF-IDF bag of words ("tfidf"); a sentence encoder (MiniLM)
// plugs in later through the same TextEmbedder without touching the metrics. Invariants:
//   - the embedder's name goes beside every figure computed with it;
//   - an all-zero row (empty text, or only unseen words) has cosine 0 with everything, so the
//     "no text" control ties with every candidate and ranks last under pessimistic ties;
//   - hashing is FNV-1a 64 of the token bytes: the same text gives the same vector everywhere.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace seller::eval {

struct FloatMatrix {
  size_t rows = 0, cols = 0;
  std::vector<float> data;  // row-major, rows * cols
  std::span<const float> row(size_t i) const { return {data.data() + i * cols, cols}; }
  std::span<float> row(size_t i) { return {data.data() + i * cols, cols}; }
};

struct TextEmbedder {
  std::string name;  // e.g. "tfidf", later "all-MiniLM-L6-v2"
  std::function<FloatMatrix(const std::vector<std::string>&)> embed;
};

// Candidates (rows of a matrix) with precomputed norms; scores are cosines with one query row.
class CosineIndex {
 public:
  explicit CosineIndex(FloatMatrix candidates);
  size_t size() const { return m_.rows; }
  size_t dim() const { return m_.cols; }
  // out[j] = cos(query, candidate rows[j]) (or of every candidate when rows is empty, out sized
  // size()); 0 where either vector is zero. A query with few non-zeros is scored by gathering
  // them (sparse TF-IDF rows), which gives the same value up to float rounding order.
  void scores(std::span<const float> query, std::span<const uint32_t> rows,
              std::span<float> out) const;

 private:
  FloatMatrix m_;
  std::vector<float> norms_;
};

// A sparse vector: sorted unique indices with their values.
struct SparseVector {
  std::vector<uint32_t> index;
  std::vector<float> value;
};

uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 14695981039346656037ull);

struct HashedTfidfOptions {
  uint32_t dim = 4096;   // hash buckets
  bool bigrams = false;  // add word bigrams as features
};

// Hashed TF-IDF on rouge_score tokens (lowercase [a-z0-9] runs): tf = 1 + ln(count),
// idf = ln((1 + N) / (1 + df)) + 1 (scikit-learn's smooth idf) fit on a corpus of N documents,
// rows L2-normalised. Buckets never seen in the fit corpus get idf ln(1 + N) + 1.
class HashedTfidf {
 public:
  HashedTfidf(const std::vector<std::string>& fit_corpus, const HashedTfidfOptions& options);
  SparseVector transform(std::string_view text) const;
  uint32_t dim() const { return options_.dim; }

 private:
  std::vector<uint32_t> buckets(std::string_view text) const;  // one per token (and bigram)
  HashedTfidfOptions options_;
  std::vector<float> idf_;
};

// The "tfidf" embedder: HashedTfidf fit on `fit_corpus` (the candidate items' texts), densified.
TextEmbedder make_tfidf_embedder(const std::vector<std::string>& fit_corpus,
                                 const HashedTfidfOptions& options = {});

}  // namespace seller::eval
