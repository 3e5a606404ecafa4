// Word-level tokenizer of scratch LLMs: splitting rules, vocabulary order and cut-offs, encode /
// decode, the vocabulary file round trip and its errors (file and line named).
#include <gtest/gtest.h>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/text/word_tokenizer.h"

namespace seller::text {
namespace {
using seller::testing::TempDir;
using seller::testing::write_file;

TEST(WordTokenizer, SplitsWordsAndPunctuation) {
  EXPECT_EQ(split_words("Great Battery-life, don't buy!  (really)"),
            (std::vector<std::string>{"great", "battery-life", ",", "don't", "buy", "!", "(",
                                      "really", ")"}));
  EXPECT_EQ(split_words("end-  'quoted'"),
            (std::vector<std::string>{"end", "-", "'", "quoted", "'"}));
  EXPECT_TRUE(split_words(" \t\n").empty());
  EXPECT_EQ(split_words("Café"), (std::vector<std::string>{"café"}));  // non-ASCII kept
}

TEST(WordTokenizer, BuildOrdersByCountThenBytes) {
  const auto t = WordTokenizer::build({"b a a c", "a b d", "rare"}, 100, 2);
  // a:3, b:2 (c, d, rare seen once: below min_count 2).
  EXPECT_EQ(t.vocab_size(), 6);
  EXPECT_EQ(t.id_to_token(4), "a");
  EXPECT_EQ(t.id_to_token(5), "b");
  EXPECT_EQ(t.token_to_id("c"), std::nullopt);
  const auto capped = WordTokenizer::build({"b a a c", "a b d"}, 5, 1);
  EXPECT_EQ(capped.vocab_size(), 5);
  EXPECT_EQ(capped.id_to_token(4), "a");
  EXPECT_THROW(WordTokenizer::build({"x"}, 4, 1), ConfigError);
}

TEST(WordTokenizer, EncodeDecode) {
  const auto t = WordTokenizer::build({"the battery is great .", "the screen"}, 100, 1);
  const auto ids = t.encode("The battery is AWFUL.", true);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], WordTokenizer::kBos);
  EXPECT_EQ(ids[4], WordTokenizer::kUnk);
  std::vector<int32_t> with_eos(ids);
  with_eos.push_back(WordTokenizer::kEos);
  EXPECT_EQ(t.decode(with_eos, true), "the battery is <unk> .");
  EXPECT_EQ(t.decode(with_eos, false), "<bos> the battery is <unk> . <eos>");
  EXPECT_EQ(t.bos_id(), WordTokenizer::kBos);
  EXPECT_EQ(t.eos_id(), WordTokenizer::kEos);
  EXPECT_EQ(t.pad_id(), WordTokenizer::kPad);
}

TEST(WordTokenizer, FileRoundTripAndErrors) {
  TempDir tmp;
  const auto t = WordTokenizer::build({"one two two three three three"}, 100, 1);
  t.save(tmp / "vocab.words");
  const auto back = WordTokenizer::load(tmp / "vocab.words");
  ASSERT_EQ(back.vocab_size(), t.vocab_size());
  for (int32_t i = 0; i < t.vocab_size(); ++i) EXPECT_EQ(back.id_to_token(i), t.id_to_token(i));
  write_file(tmp / "bad.words", "<pad>\n<bos>\n<eos>\nunk\nword\n");
  try {
    WordTokenizer::load(tmp / "bad.words");
    FAIL() << "no error";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.words:4"), std::string::npos) << e.what();
  }
  write_file(tmp / "dup.words", "<pad>\n<bos>\n<eos>\n<unk>\nx\nx\n");
  EXPECT_THROW(WordTokenizer::load(tmp / "dup.words"), FormatError);
  EXPECT_THROW(WordTokenizer::load(tmp / "missing.words"), DataError);
}

}  // namespace
}  // namespace seller::text
