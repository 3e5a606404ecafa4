// Token-id parity of seller::text::Tokenizer with the reference libraries on every review text
// of the shared Amazon data plus generated adversarial strings (combining marks, Hangul, CJK,
// emoji, exotic whitespace, added tokens, random code points): the Hugging Face `tokenizers`
// library for qwen3-tokenizer, gpt2-bpe (as GPT2TokenizerFast builds it from vocab.json +
// merges.txt) and stories260K-hf, and `sentencepiece` for stories260K/tok512.model, through
// scripts/oracles/tokenizer_oracle.py. Python comes from $SELLER_PYTHON (ctest sets it); without
// it or the package the tests skip with the reason, or fail when $CI is set.
// Checked per text: encode(text, add_special_tokens=true) ids, decode(ids) text, and for the
// lossless tokenizers decode(encode(x)) == x (Qwen: == NFC(x), its normalizer).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "tests/unit/text/review_texts.h"
#include "trainer/text/nfc.h"
#include "trainer/text/sentencepiece_tokenizer.h"
#include "trainer/text/tokenizer.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using seller::testing::in_ci;

// Deterministic strings that stress normalization, the pre-tokenizer classes and added tokens.
std::vector<std::string> adversarial_texts(size_t count) {
  const std::vector<std::string> fragments = {
      "a", "Z", "hello", " world", "  ", "\t", "\n", "\r\n", "\r\n\r\n", " \n ", "'s", "'S", "'ll",
      "'RE", "'ve", "'d", "'M", "'t", "'x", "123", "4567", "0", " 42", "3.14", "!!", "?", "...",
      " - ", "(", ")", "\"", "$", "_", "--", "e\xCC\x81", "A\xCC\x8A", "\xE2\x84\xAB",
      "a\xCC\xA3\xCC\x87", "a\xCC\x87\xCC\xA3", "\xE1\x84\x80\xE1\x85\xA1", "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8",
      "\xEA\xB0\x80\xE1\x86\xA8", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "\xE4\xB8\xAD\xE6\x96\x87",
      "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "\xEF\xBC\x91\xEF\xBC\x92", "\xD9\xA3\xD9\xA4",
      "\xE2\x85\xA2", "\xC2\xB2", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8", "\xC2\x85", "\x0B",
      "\xE1\x9A\x80", "\xE2\x80\x8B", "\xEF\xBB\xBF", "\xF0\x9F\x98\x80", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD",
      "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9", "\xC3\xA9", "\xC3\x9F",
      "\xC5\xBF", "\xE2\x96\x81", "<|im_start|>", "<|im_end|>", "<|endoftext|>", "<s>", "</s>",
      "<think>", "<unk>", "<0x41>", "\xCC\x81", "\xCD\x85", "\xE0\xA4\x95\xE0\xA5\x8D\xE0\xA4\xB7",
      "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D", "\xD0\x9F\xD1\x80\xD0\xB8", "\xCE\x90", "\xE1\xBE\xB3\xCC\x81"};
  std::mt19937 rng(20240601);
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    const size_t n = 1 + rng() % 24;
    for (size_t k = 0; k < n; ++k) {
      if (rng() % 5 == 0) {  // a random scalar value, BMP mostly
        char32_t cp = rng() % 4 ? 0x80 + rng() % 0xFF80 : 0x10000 + rng() % 0x20000;
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xE9;
        append_utf8(s, cp);
      } else {
        s += fragments[rng() % fragments.size()];
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

struct Corpus {
  std::vector<std::string> texts;
  size_t reviews = 0, amazon2018 = 0;
};

const Corpus& corpus(const fs::path& data_dir) {
  static const Corpus c = [&] {
    Corpus k;
    auto r = testing::load_review_texts(data_dir);
    k.reviews = r.texts.size();
    k.amazon2018 = r.amazon2018;
    k.texts = std::move(r.texts);
    for (auto& s : adversarial_texts(3000)) k.texts.push_back(std::move(s));
    k.texts.push_back("");
    return k;
  }();
  return c;
}

std::string show_ids(const std::vector<int32_t>& ids) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < ids.size(); ++i) os << (i ? "," : "") << ids[i];
  os << "]";
  return os.str();
}

enum class Lossless { kExact, kNfc, kNo };

void check_parity(const std::string& model_rel, const std::string& module, Lossless lossless) {
  SELLER_SHARED_OR_SKIP(model, model_rel);
  SELLER_SHARED_OR_SKIP(data2018, "data/amazon2018-5core-small");
  SELLER_SHARED_OR_SKIP(data2023, "data/amazon2023-mini-histories");
  const fs::path data = data2018.parent_path();
  SELLER_PYTHON_OR_SKIP(python, module);
  const Corpus& c = corpus(data);
  ASSERT_GT(c.reviews, 30000u);

  seller::testing::TempDir tmp;
  {
    std::ofstream f(tmp / "texts.jsonl", std::ios::binary);
    for (const auto& t : c.texts) f << json{{"text", t}}.dump() << "\n";
  }
  const std::string oracle = std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/tokenizer_oracle.py";
  const auto run = seller::testing::run_command("'" + python + "' '" + oracle + "' '" +
                                                model.string() + "' '" + (tmp / "texts.jsonl").string() +
                                                "' '" + (tmp / "ids.jsonl").string() + "' 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::cout << "oracle: " << run.output;

  const auto tok = Tokenizer::load(model);
  std::ifstream in(tmp / "ids.jsonl", std::ios::binary);
  size_t n = 0, id_mismatch = 0, decode_mismatch = 0, roundtrip_fail = 0;
  std::ostringstream report;
  for (std::string line; std::getline(in, line); ++n) {
    ASSERT_LT(n, c.texts.size());
    const std::string& text = c.texts[n];
    const json expect = json::parse(line);
    const auto want = expect["ids"].get<std::vector<int32_t>>();
    const auto got = tok->encode(text, true);
    if (got != want && ++id_mismatch <= 5)
      report << "\n  ids differ on text " << n << " " << json(text.substr(0, 300)).dump()
             << "\n    seller: " << show_ids(got) << "\n    oracle: " << show_ids(want);
    const std::string decoded = tok->decode(want, false);
    if (decoded != expect["decoded"].get<std::string>() && ++decode_mismatch <= 5)
      report << "\n  decode differs on text " << n << ": seller " << json(decoded).dump()
             << " oracle " << expect["decoded"].dump();
    const std::string back = tok->decode(tok->encode(text, false), false);
    const std::string want_back = lossless == Lossless::kNfc ? nfc_normalize(text) : text;
    if (back != want_back) {
      ++roundtrip_fail;
      if (lossless != Lossless::kNo && roundtrip_fail <= 5)
        report << "\n  decode(encode(x)) != x on text " << n << ": " << json(text).dump() << " -> "
               << json(back).dump();
    }
  }
  EXPECT_EQ(n, c.texts.size());
  std::cout << model_rel << ": " << n << " texts (" << c.reviews << " review texts, "
            << c.amazon2018 << " of them from Amazon 2018; " << n - c.reviews
            << " adversarial): id mismatches " << id_mismatch << ", decode mismatches "
            << decode_mismatch << ", round-trip differences " << roundtrip_fail
            << (lossless == Lossless::kNo ? " (not a lossless tokenizer)" : "") << "\n";
  EXPECT_EQ(id_mismatch, 0u) << report.str();
  EXPECT_EQ(decode_mismatch, 0u) << report.str();
  if (lossless != Lossless::kNo) {
    EXPECT_EQ(roundtrip_fail, 0u) << report.str();
  }
}

TEST(TokenizerParity, Qwen3MatchesHfTokenizers) {
  check_parity("models/qwen3-tokenizer", "tokenizers", Lossless::kNfc);
}

TEST(TokenizerParity, Gpt2VocabMergesMatchesHfTokenizers) {
  check_parity("models/gpt2-bpe", "tokenizers", Lossless::kExact);
}

TEST(TokenizerParity, Stories260KHfMatchesHfTokenizers) {
  check_parity("models/stories260K-hf", "tokenizers", Lossless::kNo);
}

TEST(TokenizerParity, Tok512ModelMatchesSentencePiece) {
  if (!have_sentencepiece()) {
    if (in_ci()) FAIL() << "CI is set but seller was built without SentencePiece";
    GTEST_SKIP() << "built without SentencePiece (apt-get install libsentencepiece-dev)";
  }
  check_parity("models/stories260K/tok512.model", "sentencepiece", Lossless::kNo);
}

}  // namespace
}  // namespace seller::text
