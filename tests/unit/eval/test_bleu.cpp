// Hand-computed corpus BLEU in both conventions (PETER/PEPLER's TF-NMT compute_bleu and
// sacreBLEU), plus the exact n-gram bookkeeping underneath.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "eval/text/bleu.h"
#include "eval/text/ngram_overlap.h"
#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// hyp "the cat sat on the mat" vs ref "the cat is on the mat" (6 tokens each):
//   1-grams: the x2, cat, on, mat match -> 5/6
//   2-grams: "the cat", "on the", "the mat" -> 3/5
//   3-grams: "on the mat" -> 1/4
//   4-grams: none -> 0/3
//   BP = 1 (equal lengths).
const TokenizedCorpus kHyp = {{"the", "cat", "sat", "on", "the", "mat"}};
const TokenizedCorpus kRef = {{"the", "cat", "is", "on", "the", "mat"}};

TEST(PeterBleu, HandComputedSinglePair) {
  EXPECT_NEAR(peter_bleu(kHyp, kRef, 1).bleu, 100.0 * 5 / 6, 1e-12);
  // BLEU-2 = sqrt(5/6 * 3/5) = sqrt(1/2)
  EXPECT_NEAR(peter_bleu(kHyp, kRef, 2).bleu, 100.0 * std::sqrt(0.5), 1e-12);
  // BLEU-3 = (5/6 * 3/5 * 1/4)^(1/3) = (1/8)^(1/3) = 1/2
  EXPECT_NEAR(peter_bleu(kHyp, kRef, 3).bleu, 50.0, 1e-12);
  // BLEU-4: a zero precision and no smoothing -> 0.
  const BleuResult b4 = peter_bleu(kHyp, kRef, 4);
  EXPECT_EQ(b4.bleu, 0.0);
  EXPECT_EQ(b4.matches, (std::vector<int64_t>{5, 3, 1, 0}));
  EXPECT_EQ(b4.totals, (std::vector<int64_t>{6, 5, 4, 3}));
  EXPECT_EQ(b4.brevity_penalty, 1.0);
  // smooth=True: (m+1)/(t+1) = 6/7, 4/6, 2/5, 1/4; product 2/35.
  EXPECT_NEAR(peter_bleu(kHyp, kRef, 4, true).bleu, 100.0 * std::pow(2.0 / 35, 0.25), 1e-12);
}

TEST(PeterBleu, HandComputedBrevityPenalty) {
  // Adds hyp "a b" vs ref "a b c d": lengths 8 vs 10, ratio 0.8, BP = exp(1 - 1/0.8) = e^-0.25.
  // 1-grams 7/8, 2-grams (3+1)/(5+1) = 4/6.
  TokenizedCorpus hyps = kHyp, refs = kRef;
  hyps.push_back({"a", "b"});
  refs.push_back({"a", "b", "c", "d"});
  const double bp = std::exp(-0.25);
  EXPECT_NEAR(peter_bleu(hyps, refs, 1).bleu, 100.0 * 7 / 8 * bp, 1e-12);
  EXPECT_NEAR(peter_bleu(hyps, refs, 2).bleu, 100.0 * std::sqrt(7.0 / 8 * 4 / 6) * bp, 1e-12);
  // A longer hypothesis side has BP = 1.
  EXPECT_NEAR(peter_bleu(refs, hyps, 1).bleu, 100.0 * 7 / 10, 1e-12);
}

TEST(PeterBleu, ClipsRepeatedNgrams) {
  // hyp "the the the" vs ref "the cat": unigram matches clipped to 1 of 3; ratio 3/2 -> BP 1.
  EXPECT_NEAR(peter_bleu({{"the", "the", "the"}}, {{"the", "cat"}}, 1).bleu, 100.0 / 3, 1e-12);
}

TEST(PeterBleu, ErrorsAndEdgeCases) {
  EXPECT_THROW(peter_bleu(kHyp, {}, 4), DataError);
  EXPECT_THROW(peter_bleu({}, {}, 4), DataError);
  EXPECT_THROW(peter_bleu(kHyp, kRef, 0), ConfigError);
  EXPECT_THROW(peter_bleu(kHyp, {{}}, 1), DataError);  // every reference empty
  EXPECT_EQ(peter_bleu({{}}, kRef, 1).bleu, 0.0);      // empty hypothesis side
}

TEST(SacreBleu, HandComputedSmoothing) {
  const std::vector<std::string> hyp = {"the cat sat on the mat"};
  const std::vector<std::string> ref = {"the cat is on the mat"};
  SacreBleuOptions o;
  o.max_ngram_order = 1;
  EXPECT_NEAR(sacrebleu_bleu(hyp, ref, o).bleu, 100.0 * 5 / 6, 1e-12);
  // exp (default): the 4-gram precision 0 becomes 100 / (2 * 3); the others are percentages.
  o.max_ngram_order = 4;
  const double p_exp[] = {100.0 * 5 / 6, 60.0, 25.0, 100.0 / 6};
  EXPECT_NEAR(sacrebleu_bleu(hyp, ref, o).bleu,
              std::pow(p_exp[0] * p_exp[1] * p_exp[2] * p_exp[3], 0.25), 1e-10);
  // none: log(0) is floored at -9999999999 -> 0.
  o.smooth = SacreBleuSmooth::kNone;
  EXPECT_EQ(sacrebleu_bleu(hyp, ref, o).bleu, 0.0);
  // floor: 100 * 0.1 / 3 for the zero order.
  o.smooth = SacreBleuSmooth::kFloor;
  EXPECT_NEAR(sacrebleu_bleu(hyp, ref, o).bleu,
              std::pow(p_exp[0] * p_exp[1] * p_exp[2] * (10.0 / 3), 0.25), 1e-10);
  // add-k (k = 1) for orders >= 2: 100 * 5/6, 100 * 4/6, 100 * 2/5, 100 * 1/4.
  o.smooth = SacreBleuSmooth::kAddK;
  EXPECT_NEAR(sacrebleu_bleu(hyp, ref, o).bleu,
              std::pow(100.0 * 5 / 6 * (400.0 / 6) * 40.0 * 25.0, 0.25), 1e-10);
}

TEST(SacreBleu, BrevityPenaltyAndEarlyStop) {
  const std::vector<std::string> hyp = {"the mat ."};
  const std::vector<std::string> ref = {"the flat mat."};
  SacreBleuOptions o;
  o.max_ngram_order = 1;
  // hyp tokens: the, mat, . (3); ref: the, flat, mat, . (4) -> 3/3 matched, BP = exp(1 - 4/3).
  EXPECT_NEAR(sacrebleu_bleu(hyp, ref, o).bleu, 100.0 * std::exp(1 - 4.0 / 3), 1e-12);
  // No match at any order: exactly 0 whatever the smoothing (sacreBLEU's early stop).
  EXPECT_EQ(sacrebleu_bleu({"x y"}, {"a b"}).bleu, 0.0);
  EXPECT_EQ(sacrebleu_bleu({""}, {"a b"}).bleu, 0.0);
}

TEST(BleuOrders, OnePassEqualsOneCallPerOrder) {
  TokenizedCorpus hyps = kHyp, refs = kRef;
  hyps.push_back({"a", "b", "c", "a", "b"});
  refs.push_back({"a", "b", "c", "d"});
  const auto peter = peter_bleu_orders(hyps, refs, 4);
  const auto sacre = sacrebleu_bleu_orders(hyps, refs);
  ASSERT_EQ(peter.size(), 4u);
  ASSERT_EQ(sacre.size(), 4u);
  for (int n = 1; n <= 4; ++n) {
    SacreBleuOptions o;
    o.max_ngram_order = n;
    EXPECT_EQ(peter[static_cast<size_t>(n - 1)].bleu, peter_bleu(hyps, refs, n).bleu) << n;
    EXPECT_EQ(sacre[static_cast<size_t>(n - 1)].bleu, sacrebleu_bleu_tokenized(hyps, refs, o).bleu)
        << n;
  }
}

TEST(NgramOverlap, CountsClippedAndDistinct) {
  // hyp ids 0 1 0 1 2 ("the cat the cat sat"), ref 0 1 2 3 ("the cat sat down"), bigrams:
  // hyp {01 x2, 10, 12}, ref {01, 12, 23}: clipped 2, distinct matches 2.
  const std::vector<uint32_t> h = {0, 1, 0, 1, 2}, r = {0, 1, 2, 3};
  NgramCounter c;
  const NgramOverlap o = c.overlap(h, r, 2, 4);
  EXPECT_EQ(o.hyp_count, 4);
  EXPECT_EQ(o.ref_count, 3);
  EXPECT_EQ(o.clipped_matches, 2);
  EXPECT_EQ(o.hyp_distinct, 3);
  EXPECT_EQ(o.ref_distinct, 3);
  EXPECT_EQ(o.distinct_matches, 2);
  EXPECT_EQ(lcs_length(h, r), 3);
}

TEST(NgramOverlap, PackedAndLexicographicPathsAgree) {
  // A vocabulary size of 2^20 makes 4 * 20 bits > 64 and forces the lexicographic path.
  std::mt19937 rng(7);
  NgramCounter c;
  for (int trial = 0; trial < 300; ++trial) {
    std::uniform_int_distribution<uint32_t> id(0, 5);
    std::uniform_int_distribution<int> len(0, 30);
    std::vector<uint32_t> h(static_cast<size_t>(len(rng))), r(static_cast<size_t>(len(rng)));
    for (auto& x : h) x = id(rng);
    for (auto& x : r) x = id(rng);
    for (int n = 1; n <= 5; ++n) {
      const NgramOverlap a = c.overlap(h, r, n, 6);
      const NgramOverlap b = c.overlap(h, r, n, 1u << 20);
      EXPECT_EQ(a.clipped_matches, b.clipped_matches);
      EXPECT_EQ(a.distinct_matches, b.distinct_matches);
      EXPECT_EQ(a.hyp_distinct, b.hyp_distinct);
      EXPECT_EQ(a.ref_distinct, b.ref_distinct);
      EXPECT_EQ(a.hyp_count, b.hyp_count);
    }
  }
}

}  // namespace
}  // namespace seller::eval
