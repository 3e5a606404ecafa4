// Embedding-similarity text score (BERTScore-style) of explanations against references, as a
// block of `seller eval`: greedy matching of contextual token embeddings (precision, recall, F1
// with cosine, Zhang et al. 2020) and the cosine of the two sentence embeddings. The encoder is
// an interface (TokenTextEmbedder), so this file stays free of LibTorch; the project's text
// encoder (trainer/model/text_encoder/embedder.h) implements it. Invariants:
//   - no idf weighting and no baseline rescaling (plain BERTScore P/R/F1); special tokens such as
//     [CLS]/[SEP] are excluded by the embedder, never here;
//   - a side with no token gives P = R = F1 = 0 (bert_score returns 0 there too); F1 is 0 when
//     P + R <= 0 (cosines can be negative; bert_score maps the NaN of 0/0 to 0);
//   - every figure is reported with the encoder's name (UtilityBlock::method).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "eval/utility/text_embedding.h"
#include "eval/utility/utility_report.h"

namespace seller::eval {

struct TokenMatchScore {
  double precision = 0, recall = 0, f1 = 0;
};

// Greedy matching of hypothesis token rows against reference token rows (cosine similarity;
// rows need not be normalised, a zero row has cosine 0): P = mean over hyp tokens of the best
// cosine with a ref token, R = mean over ref tokens of the best cosine with a hyp token,
// F1 = 2PR / (P + R). Throws DataError when the column counts differ.
TokenMatchScore greedy_match(const FloatMatrix& hyp, const FloatMatrix& ref);

// Cosine of two vectors (0 when either is zero), accumulated in double.
double cosine(std::span<const float> a, std::span<const float> b);

struct TextEmbeddings {
  // Per text: one row per real token (special tokens excluded), the encoder's last hidden state.
  std::vector<FloatMatrix> tokens;
  FloatMatrix sentences;  // row i: the sentence embedding of text i
};

struct TokenTextEmbedder {
  std::string name;  // e.g. "all-MiniLM-L6-v2"
  // One encoder pass gives both the token rows and the sentence embedding of every text.
  std::function<TextEmbeddings(const std::vector<std::string>&)> embed;
};

// Per pair: [P, R, F1, sentence cosine] of hyp text i against ref text i; perm (optional) pairs
// hyp row perm[i] with ref row i instead.
std::vector<std::vector<double>> embedding_score_values(const TextEmbeddings& hyp,
                                                        const TextEmbeddings& ref,
                                                        const std::vector<size_t>* perm = nullptr);

// Per pair: [P, R, F1, sentence cosine] of texts[i] against refs[i].
std::vector<std::vector<double>> embedding_score_values(const TokenTextEmbedder& embedder,
                                                        const std::vector<std::string>& texts,
                                                        const std::vector<std::string>& refs);

// The metric list of the block: BERTScore P, R, F1 and sentence cosine.
std::vector<UtilityMetric> embedding_score_metrics();

struct EmbeddingSystem {
  std::string name;  // "prediction", or "A"/"B"
  const std::vector<std::string>* texts = nullptr;
};

// The block "embedding_score": each system against the references, plus the control "shuffled"
// (the first system's text of another pair: seeded_derangement(n, shuffle_seed), the score of an
// unrelated text, i.e. what the encoder gives for free). Every text is encoded once. Tests:
// shuffled vs the first system, and A vs B when two systems are given. Throws DataError on size
// mismatches or fewer than 2 pairs.
UtilityBlock embedding_score_block(const TokenTextEmbedder& embedder,
                                   const std::vector<EmbeddingSystem>& systems,
                                   const std::vector<std::string>& refs, uint64_t shuffle_seed);

}  // namespace seller::eval
