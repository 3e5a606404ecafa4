// Aspect-lexicon mining (eval/text/aspect_lexicon.h) on hand-made corpora whose counts, lifts and
// scores are worked out by hand in the comments, plus the filters (stop words, opinion words,
// adverbs, participles, document frequency) and the feature fill used by `seller eval --data`.
#include <gtest/gtest.h>

#include <cmath>

#include "eval/text/aspect_lexicon.h"
#include "trainer/core/error.h"

namespace {

using namespace seller::eval;

const std::vector<std::string> kReviews = {
    "the battery is great",            // battery near "great"
    "battery life is poor",            // battery, life near "poor"
    "the screen arrived yesterday",    // screen, yesterday; "arrived" is a participle
    "the screen is bright and sharp",  // screen, bright, sharp: no opinion word
    "great screen",                    // screen near "great"
};

// Candidates: battery (2 occurrences, both near an opinion, df 2), life (1, 1, df 1),
// screen (3, 1 near, df 3), yesterday, bright, sharp (1 each, never near).
// All candidates: 9 occurrences, 4 near -> base rate 4/9.
// battery lift = (2/2)/(4/9) = 2.25, score = 2 ln 2.25 = 1.62186;
// life lift 2.25, score ln 2.25 = 0.81093; screen lift (1/3)/(4/9) = 0.75 <= 1: dropped.
TEST(AspectLexicon, HandComputedScores) {
  AspectLexiconOptions o;
  o.min_document_frequency = 1;
  const AspectLexicon lex = mine_aspect_lexicon(kReviews, o);
  EXPECT_EQ(lex.reviews, 5);
  ASSERT_EQ(lex.words.size(), 2u);
  EXPECT_EQ(lex.words[0].word, "battery");
  EXPECT_EQ(lex.words[0].document_frequency, 2);
  EXPECT_EQ(lex.words[0].count, 2);
  EXPECT_EQ(lex.words[0].near_opinion, 2);
  EXPECT_NEAR(lex.words[0].lift, 2.25, 1e-12);
  EXPECT_NEAR(lex.words[0].score, 2 * std::log(2.25), 1e-12);
  EXPECT_EQ(lex.words[1].word, "life");
  EXPECT_NEAR(lex.words[1].score, std::log(2.25), 1e-12);

  o.min_document_frequency = 2;  // life (df 1) goes
  const AspectLexicon strict = mine_aspect_lexicon(kReviews, o);
  ASSERT_EQ(strict.words.size(), 1u);
  EXPECT_EQ(strict.words[0].word, "battery");

  o.min_document_frequency = 1;
  o.max_words = 1;
  EXPECT_EQ(mine_aspect_lexicon(kReviews, o).words.size(), 1u);
}

TEST(AspectLexicon, WindowLimitsNearness) {
  // "great" is 4 tokens from "battery": near with window 4, not with window 3.
  const std::vector<std::string> r = {"battery x y z great", "plain words only here"};
  AspectLexiconOptions o;
  o.min_document_frequency = 1;
  o.window = 3;
  EXPECT_TRUE(mine_aspect_lexicon(r, o).words.empty());
  o.window = 4;
  const auto lex = mine_aspect_lexicon(r, o);
  ASSERT_FALSE(lex.words.empty());
  EXPECT_EQ(lex.words[0].word, "battery");
}

TEST(AspectLexicon, FiltersNonAspects) {
  // Every word sits next to an opinion word, so only the filters decide.
  std::vector<std::string> reviews;
  for (int i = 0; i < 10; ++i) {
    reviews.push_back("great zipper , really nicely stitched , product works , good");
    reviews.push_back("poor stitching , the seller shipped it quickly , bad");
    reviews.push_back("plain filler words without sentiment around here");
  }
  AspectLexiconOptions o;
  o.min_document_frequency = 5;
  const auto lex = mine_aspect_lexicon(reviews, o);
  std::vector<std::string> words;
  for (const auto& w : lex.words) words.push_back(w.word);
  EXPECT_NE(std::find(words.begin(), words.end(), "zipper"), words.end());
  EXPECT_NE(std::find(words.begin(), words.end(), "stitching"), words.end());
  for (const char* bad : {"great", "really", "nicely", "stitched", "product", "works", "the",
                          "shipped", "quickly", "poor", "bad", "good", "filler"})
    EXPECT_EQ(std::find(words.begin(), words.end(), bad), words.end()) << bad;
  EXPECT_TRUE(is_opinion_word("great"));
  EXPECT_FALSE(is_opinion_word("zipper"));
  EXPECT_TRUE(is_aspect_stop_word("product"));
  EXPECT_FALSE(is_aspect_stop_word("battery"));
}

TEST(AspectLexicon, DeterministicOrderOnTies) {
  // a-words and b-words have identical statistics: ties break by the word.
  const std::vector<std::string> r = {"great bbb aaa", "great aaa bbb", "plain words only"};
  AspectLexiconOptions o;
  o.min_document_frequency = 1;
  const auto lex = mine_aspect_lexicon(r, o);
  ASSERT_EQ(lex.words.size(), 2u);
  EXPECT_EQ(lex.words[0].word, "aaa");
  EXPECT_EQ(lex.words[1].word, "bbb");
  EXPECT_EQ(lex.words[0].score, lex.words[1].score);
}

TEST(AspectLexicon, FeaturesOfTexts) {
  AspectLexiconOptions o;
  o.min_document_frequency = 1;
  const AspectLexicon lex = mine_aspect_lexicon(kReviews, o);
  const auto f =
      lexicon_features({"Battery life is short", "the battery died, battery", "none"}, lex);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], (std::vector<std::string>{"life"}));     // "Battery": exact PETER-token match
  EXPECT_EQ(f[1], (std::vector<std::string>{"battery"}));  // unique
  EXPECT_TRUE(f[2].empty());
  EXPECT_EQ(lex.vocabulary(), (FeatureVocabulary{"battery", "life"}));
}

TEST(AspectLexicon, Errors) {
  EXPECT_THROW(mine_aspect_lexicon({}), seller::DataError);
  AspectLexiconOptions o;
  o.window = 0;
  EXPECT_THROW(mine_aspect_lexicon(kReviews, o), seller::ConfigError);
  // No opinion word anywhere: an empty lexicon, not an error.
  EXPECT_TRUE(mine_aspect_lexicon({"plain words here", "more plain words"}).words.empty());
}

}  // namespace
