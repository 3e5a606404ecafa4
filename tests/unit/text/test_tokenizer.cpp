// Hand-made cases for seller::text: the Unicode helpers (UTF-8 repair, classes, NFC), the
// pre-tokenizer matchers, the tokenizer.json loader's errors, and the shared tokenizers on
// special tokens, empty input, emoji, CJK, combining marks, \r\n runs, leading spaces and
// per-digit numbers. Expected ids were taken from the Hugging Face `tokenizers` library 0.23.3.
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/text/nfc.h"
#include "trainer/text/sentencepiece_tokenizer.h"
#include "trainer/text/split_patterns.h"
#include "trainer/text/tokenizer.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

using Ids = std::vector<int32_t>;

std::vector<std::string> pieces(SplitPattern p, std::string_view text) {
  std::vector<std::pair<uint32_t, uint32_t>> m;
  find_split_matches(p, text, m);
  std::vector<std::string> out;
  for (auto [b, e] : m) out.emplace_back(text.substr(b, e - b));
  return out;
}

TEST(Unicode, RepairsInvalidUtf8LikeFromUtf8Lossy) {
  EXPECT_EQ(to_valid_utf8("ok"), "ok");
  EXPECT_EQ(to_valid_utf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  // A truncated 3-byte sequence is one maximal subpart: one U+FFFD.
  EXPECT_EQ(to_valid_utf8("\xE2\x82" "x"), "\xEF\xBF\xBD" "x");
  // Surrogates encoded in UTF-8 are invalid: ED A0 is not a valid prefix, so 3 replacements.
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));
}

TEST(Unicode, ClassesFollowOniguruma) {
  EXPECT_EQ(char_class('a'), CharClass::kLetter);
  EXPECT_EQ(char_class(0x4E2D), CharClass::kLetter);   // 中
  EXPECT_EQ(char_class(0x13460), CharClass::kLetter);  // Egyptian hieroglyph, Unicode 16
  EXPECT_EQ(char_class(0x0663), CharClass::kNumber);   // Arabic-Indic three
  EXPECT_EQ(char_class(0x2162), CharClass::kNumber);   // Roman numeral three (Nl)
  EXPECT_EQ(char_class(0x00B2), CharClass::kNumber);   // superscript two (No)
  EXPECT_EQ(char_class(0x3000), CharClass::kSpace);
  EXPECT_EQ(char_class(0x0085), CharClass::kSpace);
  EXPECT_EQ(char_class(0x001C), CharClass::kOther);  // Python's isspace() says yes; Oniguruma no
  EXPECT_EQ(char_class(0x200B), CharClass::kOther);  // zero-width space is Cf
  EXPECT_EQ(char_class(0x1F600), CharClass::kOther);
  EXPECT_STREQ(unicode_version(), "16.0.0");
  EXPECT_STREQ(nfc_unicode_version(), "9.0.0");
}

TEST(Nfc, ComposesReordersAndHandlesHangul) {
  EXPECT_EQ(nfc_normalize("Cafe\xCC\x81"), "Caf\xC3\xA9");                // e + acute -> é
  EXPECT_EQ(nfc_normalize("\xE2\x84\xAB"), "\xC3\x85");                   // Å sign -> Å
  EXPECT_EQ(nfc_normalize("a\xCC\x87\xCC\xA3"), "\xE1\xBA\xA1\xCC\x87");  // dot below first
  EXPECT_EQ(nfc_normalize("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // 각
  EXPECT_EQ(nfc_normalize("\xEA\xB0\x80\xE1\x86\xA8"), "\xEA\xB0\x81");  // 가 + ᆨ -> 각
  EXPECT_EQ(nfc_normalize("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");  // excluded: stays NFD
  EXPECT_EQ(nfc_normalize("plain ascii"), "plain ascii");
  EXPECT_EQ(nfc_normalize("\xCC\x81" "a"), "\xCC\x81" "a");  // leading mark has no starter
}

TEST(SplitPatterns, RecognisesOnlyKnownRegexes) {
  EXPECT_EQ(recognize_split_pattern(split_pattern_regex(SplitPattern::kQwen2)), SplitPattern::kQwen2);
  EXPECT_EQ(recognize_split_pattern(R"(\w+)"), std::nullopt);
}

TEST(SplitPatterns, MatchWhatTheRegexEngineMatches) {
  using V = std::vector<std::string>;
  EXPECT_EQ(pieces(SplitPattern::kQwen2, "line1\r\n\r\n\r\nline2   x  \n"),
            (V{"line", "1", "\r\n\r\n\r\n", "line", "2", "  ", " x", "  \n"}));
  EXPECT_EQ(pieces(SplitPattern::kQwen2, "12345"), (V{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(pieces(SplitPattern::kLlama3, "12345"), (V{"123", "45"}));
  EXPECT_EQ(pieces(SplitPattern::kQwen2, "don't WON'T"), (V{"don", "'t", " WON", "'T"}));
  EXPECT_EQ(pieces(SplitPattern::kGpt2, "don't WON'T"), (V{"don", "'t", " WON", "'", "T"}));
  EXPECT_EQ(pieces(SplitPattern::kGpt2, "a  b\t\tc  "), (V{"a", " ", " b", "\t", "\t", "c", "  "}));
  EXPECT_EQ(pieces(SplitPattern::kQwen2, "!!\r\n\r\nz"), (V{"!!\r\n\r\n", "z"}));
  EXPECT_EQ(pieces(SplitPattern::kQwen2, "\t\tfoo"), (V{"\t", "\tfoo"}));
  EXPECT_TRUE(pieces(SplitPattern::kGpt2, "").empty());
}

TEST(TokenizerJson, UnsupportedComponentsNameTypeAndFile) {
  const auto expect_error = [](const std::string& json, const std::string& needle) {
    try {
      Tokenizer::from_json_string(json, "my/tokenizer.json");
      ADD_FAILURE() << "no error for " << json;
    } catch (const DataError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("my/tokenizer.json"), std::string::npos) << e.what();
    }
  };
  const std::string model = R"("model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";
  expect_error(R"({"model": {"type": "WordPiece", "vocab": {}}})", "\"WordPiece\"");
  expect_error(R"({"normalizer": {"type": "NFKC"}, )" + model + "}", "\"NFKC\"");
  expect_error(R"({"pre_tokenizer": {"type": "Whitespace"}, )" + model + "}", "\"Whitespace\"");
  expect_error(R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\w+"}, "behavior": "Isolated"}, )" +
                   model + "}",
               "unsupported Split regex");
  expect_error(R"({"decoder": {"type": "WordPiece"}, )" + model + "}", "\"WordPiece\"");
  expect_error(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})", "merge 0");
  expect_error("{not json", "not valid JSON");
}

TEST(TokenizerJson, TinyByteFallbackModelRoundTrips) {
  std::string vocab = R"("<unk>": 0, "a": 1, "b": 2, "ab": 3, "▁": 4, "▁ab": 5)";
  for (int b = 0; b < 256; ++b) {
    char name[16];
    std::snprintf(name, sizeof name, ", \"<0x%02X>\": %d", b, 6 + b);
    vocab += name;
  }
  const std::string json = R"({"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": false},
    "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"},
                {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always"}]},
    "model": {"type": "BPE", "byte_fallback": true, "vocab": {)" + vocab +
                           R"(}, "merges": ["a b", "▁ ab"]}})";
  const auto tok = Tokenizer::from_json_string(json, "tiny");
  // Expected values from tokenizers 0.23.3 on the same JSON.
  EXPECT_EQ(tok->encode("ab", false), (Ids{5}));
  EXPECT_EQ(tok->encode("abc", false), (Ids{5, 105}));
  EXPECT_EQ(tok->encode("ab ab", false), (Ids{5, 5}));
  EXPECT_EQ(tok->encode("\xC3\xA9", false), (Ids{4, 201, 175}));
  EXPECT_EQ(tok->decode(Ids{5, 105}, false), "abc");
  EXPECT_EQ(tok->decode(Ids{4, 201, 175}, false), "\xC3\xA9");
  EXPECT_EQ(tok->decode(Ids{5, 4, 5, 4}, false), "ab  ab ");
}

class SharedTokenizer : public ::testing::Test {
 protected:
  std::unique_ptr<Tokenizer> load(const std::string& rel) {
    const auto path = seller::testing::shared_path(rel);
    if (!path) return nullptr;
    return Tokenizer::load(*path);
  }
};

#define LOAD_OR_SKIP(var, rel)                                          \
  const auto var = load(rel);                                           \
  if (!var) GTEST_SKIP() << "shared model not found: " << (rel)

TEST_F(SharedTokenizer, QwenHandMadeCases) {
  LOAD_OR_SKIP(q, "models/qwen3-tokenizer");
  EXPECT_EQ(q->vocab_size(), 151669);
  EXPECT_EQ(q->bos_id(), std::nullopt);
  EXPECT_EQ(q->eos_id(), 151645);  // <|im_end|> from tokenizer_config.json
  EXPECT_EQ(q->pad_id(), 151643);
  EXPECT_EQ(q->encode("", true), Ids{});
  const std::string chat = "Hello<|im_start|>user\nHi there!<|im_end|>";
  EXPECT_EQ(q->encode(chat, true), (Ids{9707, 151644, 872, 198, 13048, 1052, 0, 151645}));
  EXPECT_EQ(q->decode(q->encode(chat, true), false), chat);
  EXPECT_EQ(q->decode(q->encode(chat, true), true), "Hellouser\nHi there!");
  EXPECT_EQ(q->encode("I love it \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD!", true),
            (Ids{40, 2948, 432, 90316, 144349, 145375, 0}));
  EXPECT_EQ(q->encode("\xE8\xBF\x99\xE4\xB8\xAA\xE4\xBA\xA7\xE5\x93\x81\xE5\xBE\x88\xE5\xA5\xBD\xE7\x94\xA8", true),
            (Ids{99487, 82700, 101243, 11622}));
  // NFC: a decomposed é encodes like the precomposed one.
  EXPECT_EQ(q->encode("Cafe\xCC\x81", true), (Ids{34, 2577, 963}));
  EXPECT_EQ(q->encode("Caf\xC3\xA9", true), (Ids{34, 2577, 963}));
  EXPECT_EQ(q->encode("line1\r\n\r\n\r\nline2", true), (Ids{1056, 16, 8563, 1056, 17}));
  EXPECT_EQ(q->encode("   leading spaces", true), (Ids{256, 6388, 12621}));
  EXPECT_EQ(q->encode("Price: 12345 dollars", true),
            (Ids{6972, 25, 220, 16, 17, 18, 19, 20, 11192}));
  EXPECT_EQ(q->encode("don't WON'T it'S", true), (Ids{15007, 944, 97367, 17323, 432, 13272}));
  EXPECT_EQ(q->token_to_id("<|im_start|>"), 151644);
  EXPECT_EQ(q->token_to_id("no such token"), std::nullopt);
  EXPECT_EQ(q->id_to_token(9707), "Hello");
  // Invalid UTF-8 reads as U+FFFD and never throws.
  EXPECT_EQ(q->encode("a\xFF" "b", false), q->encode("a\xEF\xBF\xBD" "b", false));
}

TEST_F(SharedTokenizer, StoriesHfAddsBosAndFallsBackToBytes) {
  LOAD_OR_SKIP(s, "models/stories260K-hf");
  EXPECT_EQ(s->vocab_size(), 512);
  EXPECT_EQ(s->bos_id(), 1);
  EXPECT_EQ(s->eos_id(), 2);
  EXPECT_EQ(s->encode("", true), Ids{1});
  EXPECT_EQ(s->encode("", false), Ids{});
  EXPECT_EQ(s->encode("Once upon a time", true), (Ids{1, 403, 407, 261, 378}));
  EXPECT_EQ(s->encode("  two", true), (Ids{1, 410, 259, 424, 414}));
  EXPECT_EQ(s->encode("\xC3\xA9\xF0\x9F\x98\x80", true), (Ids{1, 410, 485, 243, 162, 155, 131}));
  EXPECT_EQ(s->decode(s->encode("Once upon a time \xF0\x9F\x98\x80", true), true),
            "Once upon a time \xF0\x9F\x98\x80");
}

TEST_F(SharedTokenizer, Gpt2FromVocabAndMerges) {
  LOAD_OR_SKIP(g, "models/gpt2-bpe");
  EXPECT_EQ(g->vocab_size(), 50257);
  EXPECT_EQ(g->eos_id(), 50256);
  EXPECT_EQ(g->encode("Hello world<|endoftext|>", true), (Ids{15496, 995, 50256}));
  const std::string text = " \xE4\xB8\xAD\xE6\x96\x87 Cafe\xCC\x81  \r\n\r\n12345";
  EXPECT_EQ(g->decode(g->encode(text, true), false), text);  // no normalizer: byte-exact
}

TEST_F(SharedTokenizer, SentencePieceModel) {
  if (!have_sentencepiece()) GTEST_SKIP() << "built without SentencePiece";
  LOAD_OR_SKIP(t, "models/stories260K/tok512.model");
  EXPECT_EQ(t->vocab_size(), 512);
  EXPECT_EQ(t->bos_id(), 1);
  EXPECT_EQ(t->eos_id(), 2);
  const auto ids = t->encode("Once upon a time", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_EQ(t->decode(ids, true), "Once upon a time");
}

TEST_F(SharedTokenizer, EncodeIsThreadSafe) {
  LOAD_OR_SKIP(q, "models/qwen3-tokenizer");
  const std::string text = "Thread safety of the BPE cache: the same words again and again.";
  const Ids want = q->encode(text, true);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) ok[t] += q->encode(text + std::to_string(i % 7), true).size() > 0;
    });
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 200);
  EXPECT_EQ(q->encode(text, true), want);
}

TEST(TokenizerLoad, MissingAndUnknownPathsAreErrors) {
  seller::testing::TempDir dir;
  EXPECT_THROW(Tokenizer::load(dir / "nope"), DataError);
  EXPECT_THROW(Tokenizer::load(dir.path()), DataError);
  seller::testing::write_file(dir / "x.txt", "hi");
  EXPECT_THROW(Tokenizer::load(dir / "x.txt"), DataError);
}

}  // namespace
}  // namespace seller::text
