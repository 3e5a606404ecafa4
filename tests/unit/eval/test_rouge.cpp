// Hand-computed ROUGE-1/2/L in both variants: "peter" (tf_seq2seq copy used by PETER/PEPLER,
// n-gram sets, beta = P/R ROUGE-L) and "rouge_score" (Google rouge-score, multisets, F1).
#include <gtest/gtest.h>

#include "eval/text/rouge.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// hyp "the cat the cat sat" (5 tokens), ref "the cat sat down" (4 tokens); LCS "the cat sat" = 3.
const std::vector<std::string> kHyp = {"the", "cat", "the", "cat", "sat"};
const std::vector<std::string> kRef = {"the", "cat", "sat", "down"};

TEST(RougeScoreVariant, HandComputed) {
  const RougeScores s = rouge_pair_tokens(kHyp, kRef, RougeVariant::kRougeScore);
  // ROUGE-1 multisets: hyp {the:2, cat:2, sat:1}, ref {the, cat, sat, down}: overlap 1+1+1 = 3.
  // P = 3/5, R = 3/4, F = 2PR/(P+R) = 0.9/1.35 = 2/3.
  EXPECT_NEAR(s.rouge1.precision, 0.6, 1e-15);
  EXPECT_NEAR(s.rouge1.recall, 0.75, 1e-15);
  EXPECT_NEAR(s.rouge1.f, 2.0 / 3, 1e-15);
  // ROUGE-2: hyp {"the cat":2, "cat the", "cat sat"}, ref {"the cat", "cat sat", "sat down"}:
  // overlap min(2,1) + 1 = 2. P = 2/4, R = 2/3, F = (2/3)/(7/6) = 4/7.
  EXPECT_NEAR(s.rouge2.precision, 0.5, 1e-15);
  EXPECT_NEAR(s.rouge2.recall, 2.0 / 3, 1e-15);
  EXPECT_NEAR(s.rouge2.f, 4.0 / 7, 1e-15);
  // ROUGE-L: LCS 3 -> P = 3/5, R = 3/4, F = 2/3.
  EXPECT_NEAR(s.rougeL.precision, 0.6, 1e-15);
  EXPECT_NEAR(s.rougeL.recall, 0.75, 1e-15);
  EXPECT_NEAR(s.rougeL.f, 2.0 / 3, 1e-15);
}

TEST(RougeScoreVariant, RawTextAndEmptySides) {
  // Tokenised to the same tokens as above (lowercase, punctuation dropped).
  const RougeScores s =
      rouge_pair("The cat, the CAT sat!", "the cat sat down.", RougeVariant::kRougeScore);
  EXPECT_NEAR(s.rouge2.f, 4.0 / 7, 1e-15);
  // An empty side scores 0 everywhere (P uses max(count, 1) as denominator).
  const RougeScores e = rouge_pair("", "the cat", RougeVariant::kRougeScore);
  EXPECT_EQ(e.rouge1.f, 0.0);
  EXPECT_EQ(e.rougeL.precision, 0.0);
}

TEST(PeterVariant, HandComputed) {
  const RougeScores s = rouge_pair_tokens(kHyp, kRef, RougeVariant::kPeter);
  // ROUGE-1 on sets: hyp {the, cat, sat} (3), ref {the, cat, sat, down} (4), overlap 3.
  // P = 1, R = 3/4, F = 2 * (P*R / (P + R + 1e-8)).
  EXPECT_DOUBLE_EQ(s.rouge1.precision, 1.0);
  EXPECT_DOUBLE_EQ(s.rouge1.recall, 0.75);
  EXPECT_DOUBLE_EQ(s.rouge1.f, 2.0 * (0.75 / (1.75 + 1e-8)));
  // ROUGE-2 on sets: hyp {the cat, cat the, cat sat}, ref {the cat, cat sat, sat down}: 2 of 3.
  EXPECT_DOUBLE_EQ(s.rouge2.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.rouge2.recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(s.rouge2.f, 2.0 * ((4.0 / 9) / (4.0 / 3 + 1e-8)));
  // ROUGE-L: LCS 3, m = 4 reference words, n = 5 hypothesis words: R = 0.75, P = 0.6,
  // beta = P / R = 0.8, F = (1 + 0.64) * 0.75 * 0.6 / (0.75 + 0.64 * 0.6) = 0.738 / 1.134
  // = 0.650794 (the standard F1 would be 2/3).
  EXPECT_DOUBLE_EQ(s.rougeL.recall, 0.75);
  EXPECT_DOUBLE_EQ(s.rougeL.precision, 0.6);
  EXPECT_NEAR(s.rougeL.f, 0.738 / 1.134, 1e-11);
}

TEST(PeterVariant, EmptyTextIsOneEmptyWord) {
  // ' '.join([]).split(' ') == [''] in the original: an empty hypothesis has one word.
  const RougeScores a = rouge_pair_tokens({}, {"a", "b"}, RougeVariant::kPeter);
  EXPECT_EQ(a.rouge1.precision, 0.0);
  EXPECT_EQ(a.rougeL.f, 0.0);
  // Both empty: the unigram sets {("",)} match (P = R = 1), no bigrams, LCS 1 of 1 word.
  const RougeScores b = rouge_pair_tokens({}, {}, RougeVariant::kPeter);
  EXPECT_DOUBLE_EQ(b.rouge1.precision, 1.0);
  EXPECT_DOUBLE_EQ(b.rouge1.f, 2.0 * (1.0 / (2.0 + 1e-8)));
  EXPECT_EQ(b.rouge2.f, 0.0);
  EXPECT_NEAR(b.rougeL.f, 1.0, 1e-11);
}

TEST(RougeCorpus, MeanOverPairsAndErrors) {
  // Pair 1 is the hand case above (rouge_score ROUGE-1 F 2/3); pair 2 is identical text (F 1).
  const TokenizedCorpus hyps = {kHyp, {"x", "y"}};
  const TokenizedCorpus refs = {kRef, {"x", "y"}};
  const RougeScores s = rouge_corpus_tokens(hyps, refs, RougeVariant::kRougeScore);
  EXPECT_NEAR(s.rouge1.f, (2.0 / 3 + 1.0) / 2, 1e-15);
  EXPECT_NEAR(s.rouge2.recall, (2.0 / 3 + 1.0) / 2, 1e-15);
  const RougeScores raw = rouge_corpus({"The cat, the CAT sat!", "x y"},
                                       {"the cat sat down.", "X Y"}, RougeVariant::kRougeScore);
  EXPECT_NEAR(raw.rouge1.f, s.rouge1.f, 1e-15);
  EXPECT_THROW(rouge_corpus_tokens(hyps, {kRef}, RougeVariant::kPeter), DataError);
  EXPECT_THROW(rouge_corpus_tokens({}, {}, RougeVariant::kPeter), DataError);
  EXPECT_EQ(rouge_variant_name(RougeVariant::kPeter), "peter");
}

}  // namespace
}  // namespace seller::eval
