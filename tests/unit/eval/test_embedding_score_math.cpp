// The matching logic of the BERTScore-style embedding score (eval/utility/embedding_score.h) on
// tiny hand-made vectors, with the arithmetic in comments; the real-model oracle (MiniLM against
// sentence-transformers/transformers in Python) is tests/model/test_embedding_score.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "eval/utility/embedding_score.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

FloatMatrix matrix(size_t cols, std::vector<float> data) {
  FloatMatrix m;
  m.cols = cols;
  m.rows = data.size() / cols;
  m.data = std::move(data);
  return m;
}

TEST(GreedyMatch, UnmatchedHypothesisTokenLowersPrecisionOnly) {
  // cos(h1, r1) = 1, cos(h2, r1) = 0: P = (1 + 0) / 2 = 0.5, R = max(1, 0) = 1,
  // F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
  const auto s = greedy_match(matrix(2, {1, 0, 0, 1}), matrix(2, {1, 0}));
  EXPECT_DOUBLE_EQ(s.precision, 0.5);
  EXPECT_DOUBLE_EQ(s.recall, 1.0);
  EXPECT_NEAR(s.f1, 2.0 / 3.0, 1e-15);
}

TEST(GreedyMatch, CosineIgnoresRowLengths) {
  // h1 = (2,0), h2 = (1,1); r1 = (0,3), r2 = (1,1).
  // cos: h1.r1 = 0, h1.r2 = 1/sqrt2, h2.r1 = 1/sqrt2, h2.r2 = 1.
  // P = (1/sqrt2 + 1) / 2, R = (1/sqrt2 + 1) / 2, F1 = P.
  const auto s = greedy_match(matrix(2, {2, 0, 1, 1}), matrix(2, {0, 3, 1, 1}));
  const double expect = (1 / std::sqrt(2.0) + 1) / 2;  // 0.853553...
  EXPECT_NEAR(s.precision, expect, 1e-7);
  EXPECT_NEAR(s.recall, expect, 1e-7);
  EXPECT_NEAR(s.f1, expect, 1e-7);
}

TEST(GreedyMatch, AsymmetricCase) {
  // hyp h1 = (1,0,0), h2 = (0,1,0), h3 = (0,0,1); ref r1 = (1,1,0).
  // cos(h1,r1) = cos(h2,r1) = 1/sqrt2, cos(h3,r1) = 0.
  // P = (2/sqrt2 + 0) / 3 = 0.471405; R = 1/sqrt2 = 0.707107; F1 = 2PR/(P+R) = 0.565685.
  const auto s = greedy_match(matrix(3, {1, 0, 0, 0, 1, 0, 0, 0, 1}), matrix(3, {1, 1, 0}));
  EXPECT_NEAR(s.precision, std::sqrt(2.0) / 3, 1e-7);
  EXPECT_NEAR(s.recall, 1 / std::sqrt(2.0), 1e-7);
  EXPECT_NEAR(s.f1, 0.565685, 1e-6);
}

TEST(GreedyMatch, NegativeSimilarityGivesZeroF1AndEmptySideZero) {
  // cos = -1 on both sides: P = R = -1, P + R < 0 -> F1 = 0 (bert_score's nan -> 0).
  const auto s = greedy_match(matrix(2, {1, 0}), matrix(2, {-1, 0}));
  EXPECT_DOUBLE_EQ(s.precision, -1);
  EXPECT_DOUBLE_EQ(s.recall, -1);
  EXPECT_DOUBLE_EQ(s.f1, 0);
  const auto e = greedy_match(matrix(2, {}), matrix(2, {1, 0}));
  EXPECT_DOUBLE_EQ(e.precision, 0);
  EXPECT_DOUBLE_EQ(e.recall, 0);
  EXPECT_DOUBLE_EQ(e.f1, 0);
  // A zero row has cosine 0 with everything: P = (1 + 0) / 2.
  EXPECT_DOUBLE_EQ(greedy_match(matrix(2, {1, 0, 0, 0}), matrix(2, {1, 0})).precision, 0.5);
  EXPECT_THROW(greedy_match(matrix(2, {1, 0}), matrix(3, {1, 0, 0})), DataError);
}

TEST(Cosine, HandValues) {
  const std::vector<float> a{3, 4}, b{4, 3}, z{0, 0};
  EXPECT_NEAR(cosine(a, b), 24.0 / 25.0, 1e-12);  // (12 + 12) / (5 * 5)
  EXPECT_DOUBLE_EQ(cosine(a, z), 0);
}

// A fake encoder: each text is its letters, token 'a' = (1,0), 'b' = (0,1), 'c' = (1,1); the
// sentence vector is the sum of the token rows.
TokenTextEmbedder letters() {
  TokenTextEmbedder e;
  e.name = "letters";
  e.embed = [](const std::vector<std::string>& texts) {
    const std::map<char, std::pair<float, float>> v{{'a', {1, 0}}, {'b', {0, 1}}, {'c', {1, 1}}};
    TextEmbeddings out;
    out.sentences.rows = texts.size();
    out.sentences.cols = 2;
    out.sentences.data.assign(texts.size() * 2, 0);
    for (size_t i = 0; i < texts.size(); ++i) {
      FloatMatrix m;
      m.cols = 2;
      for (char ch : texts[i]) {
        m.data.push_back(v.at(ch).first);
        m.data.push_back(v.at(ch).second);
        out.sentences.data[2 * i] += v.at(ch).first;
        out.sentences.data[2 * i + 1] += v.at(ch).second;
        ++m.rows;
      }
      out.tokens.push_back(std::move(m));
    }
    return out;
  };
  return e;
}

TEST(EmbeddingScoreBlock, SystemShuffledControlAndEncoderName) {
  const std::vector<std::string> hyps{"a", "b"}, refs{"a", "ab"};
  const UtilityBlock b = embedding_score_block(letters(), {{"prediction", &hyps}}, refs, 0);
  EXPECT_EQ(b.encoder, "letters");
  EXPECT_NE(b.method.find("letters"), std::string::npos);
  ASSERT_EQ(b.conditions, (std::vector<std::string>{"prediction", "shuffled"}));
  // prediction: pair 0 "a" vs "a": all 1, sentence cos 1. Pair 1 "b" vs "ab": P = 1, R = (0+1)/2
  // = 0.5, F1 = 2/3, sentence cos((0,1), (1,1)) = 1/sqrt2.
  EXPECT_DOUBLE_EQ(b.values[0][0][2], 1.0);
  EXPECT_DOUBLE_EQ(b.values[0][1][0], 1.0);
  EXPECT_DOUBLE_EQ(b.values[0][1][1], 0.5);
  EXPECT_NEAR(b.values[0][1][2], 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(b.values[0][1][3], 1 / std::sqrt(2.0), 1e-7);
  // shuffled (n = 2: the derangement swaps): "b" vs "a" -> 0, "a" vs "ab" -> P 1, R 0.5.
  EXPECT_DOUBLE_EQ(b.values[1][0][2], 0.0);
  EXPECT_DOUBLE_EQ(b.values[1][1][0], 1.0);
  EXPECT_DOUBLE_EQ(b.values[1][1][1], 0.5);
  ASSERT_EQ(b.tests.size(), 1u);
  EXPECT_EQ(b.tests[0].a, 1u);  // prediction beats shuffled
  EXPECT_EQ(b.tests[0].b, 0u);
  const std::vector<std::string> one{"a"};
  EXPECT_THROW(embedding_score_block(letters(), {{"prediction", &one}}, refs, 0), DataError);
}

}  // namespace
}  // namespace seller::eval
