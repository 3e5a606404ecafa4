// Hand-computed USR, distinct-n, FMR/FCR/DIV (PETER's definitions), length statistics and the
// all-metrics report.
#include <gtest/gtest.h>

#include "eval/text/diversity.h"
#include "eval/text/length_stats.h"
#include "eval/text/text_report.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// Texts "a b c", "a b c", "a b d", "" (empty).
const TokenizedCorpus kTexts = {{"a", "b", "c"}, {"a", "b", "c"}, {"a", "b", "d"}, {}};

TEST(Diversity, UniqueSentenceRatio) {
  // Unique sequences: (a b c), (a b d), () -> USN 3, USR 3/4.
  const UniqueSentences u = unique_sentence_ratio(kTexts);
  EXPECT_EQ(u.unique_count, 3);
  EXPECT_DOUBLE_EQ(u.ratio, 0.75);
  // Token boundaries matter: ("ab") and ("a", "b") are different sentences.
  EXPECT_EQ(unique_sentence_ratio({{"ab"}, {"a", "b"}}).unique_count, 2);
  EXPECT_THROW(unique_sentence_ratio({}), DataError);
}

TEST(Diversity, DistinctN) {
  // Unigrams: 9 in all, distinct {a, b, c, d} -> 4/9.
  EXPECT_DOUBLE_EQ(distinct_n(kTexts, 1), 4.0 / 9);
  // Bigrams: ab bc ab bc ab bd (6), distinct {ab, bc, bd} -> 1/2.
  EXPECT_DOUBLE_EQ(distinct_n(kTexts, 2), 0.5);
  EXPECT_EQ(distinct_n({{"a"}}, 2), 0.0);
  EXPECT_THROW(distinct_n(kTexts, 0), ConfigError);
}

TEST(Diversity, FeatureMetrics) {
  // Vocabulary {a, c, d, z}: detected {a,c}, {a,c}, {a,d}, {}.
  const FeatureVocabulary vocab = {"a", "c", "d", "z"};
  const auto detected = detect_features(kTexts, vocab);
  ASSERT_EQ(detected.size(), 4u);
  EXPECT_EQ(detected[0], (FeatureSet{"a", "c"}));
  EXPECT_TRUE(detected[3].empty());
  // FCR: union {a, c, d} over 4 features -> 3/4.
  EXPECT_DOUBLE_EQ(feature_coverage_ratio(detected, vocab), 0.75);
  // DIV: pairs (1,2)=2 (1,3)=1 (1,4)=0 (2,3)=1 (2,4)=0 (3,4)=0 -> 4 / C(4,2) = 4/6.
  // (Equivalently a appears 3 times: C(3,2) = 3, c twice: 1, d once: 0.)
  EXPECT_DOUBLE_EQ(feature_diversity(detected), 4.0 / 6);
  // FMR with ground truth c, z, d, a: samples 1 and 3 match -> 1/2.
  EXPECT_DOUBLE_EQ(feature_matching_ratio(detected, {{"c"}, {"z"}, {"d"}, {"a"}}), 0.5);
  // Several ground-truth features: any one counts (sample 2 now matches through "a").
  EXPECT_DOUBLE_EQ(feature_matching_ratio(detected, {{"c"}, {"z", "a"}, {"d"}, {"a"}}), 0.75);
  EXPECT_THROW(feature_matching_ratio(detected, {{"c"}}), DataError);
  EXPECT_THROW(feature_diversity({detected[0]}), DataError);
  EXPECT_THROW(feature_coverage_ratio(detected, {}), DataError);
}

TEST(LengthStats, MeanMedianMinMax) {
  // Lengths 3, 3, 3, 0: mean 9/4, median of the sorted 0 3 3 3 is (3 + 3) / 2.
  const LengthStats s = length_stats(kTexts);
  EXPECT_EQ(s.count, 4);
  EXPECT_DOUBLE_EQ(s.mean, 2.25);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_EQ(s.min, 0);
  EXPECT_EQ(s.max, 3);
  EXPECT_DOUBLE_EQ(length_stats({{"a"}, {"a", "b"}, {}}).median, 1.0);
  EXPECT_THROW(length_stats({}), DataError);
}

TEST(TextReport, EverythingInOneCall) {
  TextQualityInput in;
  in.hyps = {"the cat sat on the mat", "a b"};
  in.refs = {"the cat is on the mat", "a b c d"};
  in.feature_vocabulary = {"cat", "mat", "b"};
  in.ground_truth_features = {{"mat"}, {"c"}};
  const TextQualityReport r = evaluate_text_quality(in);
  // Same tokens as the BLEU brevity-penalty case in test_bleu.cpp: 7/8 * e^-0.25.
  EXPECT_NEAR(r.bleu_peter[0], 100.0 * 7 / 8 * std::exp(-0.25), 1e-12);
  EXPECT_NEAR(r.bleu_sacrebleu[0], r.bleu_peter[0], 1e-12);
  EXPECT_DOUBLE_EQ(r.usr.ratio, 1.0);
  ASSERT_TRUE(r.fmr && r.fcr && r.div);
  EXPECT_DOUBLE_EQ(*r.fmr, 0.5);  // "mat" found in text 1; "c" not in text 2
  EXPECT_DOUBLE_EQ(*r.fcr, 1.0);  // cat, mat, b all generated
  EXPECT_DOUBLE_EQ(*r.div, 0.0);  // {cat, mat} and {b} share nothing
  EXPECT_DOUBLE_EQ(r.hyp_length.mean, 4.0);
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["count"], 2);
  EXPECT_TRUE(j["rouge"]["peter"]["rougeL"].contains("f"));
  EXPECT_TRUE(j["bleu"]["sacrebleu"].contains("bleu4"));
  EXPECT_EQ(j["tokenization"]["bleu_sacrebleu"], "13a");
  in.refs.pop_back();
  EXPECT_THROW(evaluate_text_quality(in), DataError);
}

}  // namespace
}  // namespace seller::eval
