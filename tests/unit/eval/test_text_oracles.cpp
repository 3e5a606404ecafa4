// The C++ text metrics against the field's Python implementations on real and adversarial text:
// sacreBLEU (13a tokens and BLEU-1..4, exp and no smoothing), Google rouge-score (tokens,
// per-pair and mean ROUGE-1/2/L) and scripts/oracles/peter_reference.py (an independent Python
// statement of the PETER/PEPLER definitions). Python comes from $SELLER_PYTHON (ctest sets it to
// the project venv), else <source>/.venv/bin/python; without it or its packages the tests skip
// with the reason, or fail when $CI is set, because CI must prove these numbers.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "eval/text/bleu.h"
#include "eval/text/diversity.h"
#include "eval/text/rouge.h"
#include "eval/text/tokenize.h"
#include "tests/support/test_support.h"

namespace seller::eval {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json run_oracle(const std::string& python, const std::string& script, const json& input) {
  testing::TempDir dir;
  testing::write_file(dir / "input.json", input.dump());
  const std::string path = std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/" + script;
  const auto result =
      testing::run_command("'" + python + "' '" + path + "' '" + (dir / "input.json").string() +
                           "' 2>'" + (dir / "stderr.txt").string() + "'");
  if (result.exit_code != 0) {
    ADD_FAILURE() << script << " failed (" << result.exit_code << "): " << result.output
                  << testing::read_file(dir / "stderr.txt");
    return json();
  }
  return json::parse(result.output);
}

std::vector<std::string> read_json_strings(const fs::path& path) {
  return json::parse(testing::read_file(path)).get<std::vector<std::string>>();
}

std::string read_gzip(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path.string());
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return out;
}

// (reviewText, summary) pairs of an Amazon 2018 5-core file with both fields non-empty.
void read_amazon_pairs(const fs::path& path, size_t limit, std::vector<std::string>& hyps,
                       std::vector<std::string>& refs) {
  std::istringstream lines(read_gzip(path));
  std::string line;
  size_t taken = 0;
  while (taken < limit && std::getline(lines, line)) {
    const json j = json::parse(line);
    if (!j.contains("reviewText") || !j.contains("summary")) continue;
    const auto review = j["reviewText"].get<std::string>();
    const auto summary = j["summary"].get<std::string>();
    if (review.empty() || summary.empty()) continue;
    hyps.push_back(review);
    refs.push_back(summary);
    ++taken;
  }
}

void expect_rel(double expected, double actual, double rel, const std::string& what) {
  const double tol = rel * std::max(std::abs(expected), 1e-3);
  EXPECT_NEAR(actual, expected, tol) << what;
}

// Every metric of this library that has a Python counterpart, on one corpus.
void check_corpus(const std::string& python_sacre, const std::string& python_rouge,
                  const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                  const std::string& name) {
  SCOPED_TRACE(name);
  const json input{{"hyps", hyps},
                   {"refs", refs},
                   {"tokens", true},
                   {"smooth", {"exp", "none"}},
                   {"orders", {1, 2, 3, 4}}};

  // sacreBLEU: tokens per segment, then BLEU-1..4 with exp and no smoothing.
  const json sacre = run_oracle(python_sacre, "sacrebleu_oracle.py", input);
  ASSERT_FALSE(sacre.is_null());
  for (size_t i = 0; i < hyps.size(); ++i) {
    ASSERT_EQ(normalize_13a(hyps[i]), sacre["tokens"]["hyps"][i].get<std::string>())
        << "13a differs on hyp " << i << ": " << hyps[i];
    ASSERT_EQ(normalize_13a(refs[i]), sacre["tokens"]["refs"][i].get<std::string>())
        << "13a differs on ref " << i << ": " << refs[i];
  }
  const TokenizedCorpus h13 = tokenize_corpus(hyps, Tokenizer::kSacre13a);
  const TokenizedCorpus r13 = tokenize_corpus(refs, Tokenizer::kSacre13a);
  for (const auto& [smooth_name, smooth] :
       {std::pair{"exp", SacreBleuSmooth::kExp}, std::pair{"none", SacreBleuSmooth::kNone}}) {
    for (int n = 1; n <= 4; ++n) {
      SacreBleuOptions options;
      options.max_ngram_order = n;
      options.smooth = smooth;
      const double expected = sacre["bleu"][smooth_name][std::to_string(n)].get<double>();
      expect_rel(expected, sacrebleu_bleu_tokenized(h13, r13, options).bleu, 1e-9,
                 std::string("sacreBLEU-") + std::to_string(n) + " smooth=" + smooth_name);
    }
  }
  std::printf("[%s] sacrebleu %s BLEU-4 %.6f\n", name.c_str(),
              sacre["version"].get<std::string>().c_str(), sacre["bleu"]["exp"]["4"].get<double>());

  // rouge-score: tokens, then the corpus mean of ROUGE-1/2/L P/R/F.
  const json rs = run_oracle(python_rouge, "rouge_score_oracle.py", input);
  ASSERT_FALSE(rs.is_null());
  for (size_t i = 0; i < hyps.size(); ++i) {
    ASSERT_EQ(tokenize_rouge_score(hyps[i]),
              rs["tokens"]["hyps"][i].get<std::vector<std::string>>())
        << "rouge-score tokens differ on hyp " << i << ": " << hyps[i];
    ASSERT_EQ(tokenize_rouge_score(refs[i]),
              rs["tokens"]["refs"][i].get<std::vector<std::string>>())
        << "rouge-score tokens differ on ref " << i;
  }
  const RougeScores ours = rouge_corpus(hyps, refs, RougeVariant::kRougeScore);
  const auto check_prf = [&](const json& expected, const PrfScore& got, const std::string& what) {
    expect_rel(expected["p"].get<double>(), got.precision, 1e-9, what + " P");
    expect_rel(expected["r"].get<double>(), got.recall, 1e-9, what + " R");
    expect_rel(expected["f"].get<double>(), got.f, 1e-9, what + " F");
  };
  check_prf(rs["mean"]["rouge1"], ours.rouge1, "rouge_score ROUGE-1");
  check_prf(rs["mean"]["rouge2"], ours.rouge2, "rouge_score ROUGE-2");
  check_prf(rs["mean"]["rougeL"], ours.rougeL, "rouge_score ROUGE-L");
  std::printf("[%s] rouge-score %s ROUGE-L F %.6f\n", name.c_str(),
              rs["version"].get<std::string>().c_str(), rs["mean"]["rougeL"]["f"].get<double>());

  // PETER/PEPLER definitions, restated independently in Python.
  const json pr = run_oracle(python_sacre, "peter_reference.py", input);
  ASSERT_FALSE(pr.is_null());
  const TokenizedCorpus hp = tokenize_corpus(hyps, Tokenizer::kPeter);
  const TokenizedCorpus rp = tokenize_corpus(refs, Tokenizer::kPeter);
  for (size_t i = 0; i < hyps.size(); ++i) {
    ASSERT_EQ(hp[i], pr["tokens"]["hyps"][i].get<std::vector<std::string>>()) << hyps[i];
    ASSERT_EQ(rp[i], pr["tokens"]["refs"][i].get<std::vector<std::string>>()) << refs[i];
  }
  for (int n = 1; n <= 4; ++n) {
    expect_rel(pr["bleu"][std::to_string(n)].get<double>(), peter_bleu(hp, rp, n).bleu, 1e-9,
               "PETER BLEU-" + std::to_string(n));
  }
  const RougeScores peter = rouge_corpus_tokens(hp, rp, RougeVariant::kPeter);
  check_prf(pr["rouge"]["rouge1"], peter.rouge1, "peter ROUGE-1");
  check_prf(pr["rouge"]["rouge2"], peter.rouge2, "peter ROUGE-2");
  check_prf(pr["rouge"]["rougeL"], peter.rougeL, "peter ROUGE-L");
  const UniqueSentences usr = unique_sentence_ratio(hp);
  EXPECT_EQ(usr.unique_count, pr["usn"].get<int64_t>());
  EXPECT_DOUBLE_EQ(usr.ratio, pr["usr"].get<double>());
  EXPECT_DOUBLE_EQ(distinct_n(hp, 1), pr["distinct1"].get<double>());
  EXPECT_DOUBLE_EQ(distinct_n(hp, 2), pr["distinct2"].get<double>());
}

TEST(TextOracles, XrecAmazonAndGoogle) {
  SELLER_PYTHON_OR_SKIP(python_sacre, "sacrebleu");
  SELLER_PYTHON_OR_SKIP(python_rouge, "rouge_score");
  for (const std::string ds : {"amazon", "google"}) {
    SELLER_SHARED_OR_SKIP(dir, "data/xrec-test/" + ds);
    const auto hyps = read_json_strings(dir / "tst_pred.json");
    const auto refs = read_json_strings(dir / "tst_ref.json");
    ASSERT_EQ(hyps.size(), 3000u);
    ASSERT_EQ(refs.size(), 3000u);
    check_corpus(python_sacre, python_rouge, hyps, refs, "xrec-" + ds);
  }
}

TEST(TextOracles, AmazonReviewsAgainstSummaries) {
  SELLER_PYTHON_OR_SKIP(python_sacre, "sacrebleu");
  SELLER_PYTHON_OR_SKIP(python_rouge, "rouge_score");
  for (const std::string file :
       {"All_Beauty_5.json.gz", "AMAZON_FASHION_5.json.gz", "Appliances_5.json.gz"}) {
    SELLER_SHARED_OR_SKIP(path, "data/amazon2018-5core-small/" + file);
    std::vector<std::string> hyps, refs;
    read_amazon_pairs(path, 1000, hyps, refs);
    ASSERT_GT(hyps.size(), 100u);
    check_corpus(python_sacre, python_rouge, hyps, refs, file);
  }
}

// Random strings built from the pieces that each tokenizer treats specially: punctuation next
// to digits, HTML entities, "<skipped>", "-\n", clitics, runs of punctuation, non-ASCII spaces,
// characters whose lowercase is ASCII (U+0130, U+212A), accents and emoji.
TEST(TextOracles, AdversarialStrings) {
  SELLER_PYTHON_OR_SKIP(python_sacre, "sacrebleu");
  SELLER_PYTHON_OR_SKIP(python_rouge, "rouge_score");
  const std::vector<std::string> pieces = {"a",
                                           "B",
                                           "word",
                                           "Don't",
                                           "it's",
                                           "we'll",
                                           "I'd",
                                           "n't",
                                           "'re",
                                           "'ve",
                                           "'m",
                                           "1",
                                           "23",
                                           "4.5",
                                           "6,7",
                                           ".",
                                           ",",
                                           "..",
                                           ",,",
                                           "...",
                                           "-",
                                           "--",
                                           "3-",
                                           "-3",
                                           "!",
                                           "!!",
                                           "?",
                                           "??",
                                           ":",
                                           "::",
                                           ";",
                                           ";;",
                                           "(",
                                           ")",
                                           "[",
                                           "]",
                                           "{",
                                           "}",
                                           "~",
                                           "`",
                                           "^",
                                           "_",
                                           "\\",
                                           "/",
                                           "@",
                                           "#",
                                           "$",
                                           "%",
                                           "&",
                                           "&amp;",
                                           "&quot;",
                                           "&lt;",
                                           "&gt;",
                                           "&amp;lt;",
                                           "<skipped>",
                                           "-\n",
                                           "\n",
                                           "\t",
                                           "\r",
                                           "\v",
                                           "\f",
                                           "\x1c",
                                           "\x1f",
                                           " ",
                                           "  ",
                                           "'",
                                           "\"",
                                           "*",
                                           "+",
                                           "=",
                                           "<",
                                           ">",
                                           "|",
                                           "\xc2\xa0",
                                           "\xc2\x85",
                                           "\xe2\x80\x89",
                                           "\xe3\x80\x80",
                                           "\xe2\x80\xa8",
                                           "\xc4\xb0",
                                           "\xe2\x84\xaa",
                                           "\xc3\xa9",
                                           "\xc3\x89",
                                           "\xc3\x9f",
                                           "\xf0\x9f\x98\x80",
                                           "\xe2\x80\x99",
                                           "\xe2\x80\x9c",
                                           "\xcc\x87",
                                           "\xe2\x80\x8b",
                                           "caf\xc3\xa9",
                                           "STRASSE",
                                           "x2",
                                           "2x"};
  std::mt19937 rng(20240611);
  std::uniform_int_distribution<size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> length(0, 14);
  std::vector<std::string> hyps, refs;
  for (int i = 0; i < 3000; ++i) {
    std::string h, r;
    for (int k = length(rng); k > 0; --k) h += pieces[pick(rng)];
    for (int k = length(rng); k > 0; --k) r += pieces[pick(rng)];
    hyps.push_back(h);
    refs.push_back(r);
  }
  // Pairs that share many n-grams, so that matches and clipping are exercised too.
  for (int i = 0; i < 500; ++i)
    hyps[static_cast<size_t>(i)] =
        refs[static_cast<size_t>(i)] + " " + hyps[static_cast<size_t>(i)];
  check_corpus(python_sacre, python_rouge, hyps, refs, "adversarial");
}

// FMR/FCR/DIV on real outputs: a small aspect vocabulary, each sample's ground truth being the
// vocabulary words its reference mentions.
TEST(TextOracles, FeatureMetricsOnXrec) {
  SELLER_PYTHON_OR_SKIP(python, "json");
  SELLER_SHARED_OR_SKIP(dir, "data/xrec-test/amazon");
  auto hyps = read_json_strings(dir / "tst_pred.json");
  auto refs = read_json_strings(dir / "tst_ref.json");
  hyps.resize(1200);
  refs.resize(1200);
  const std::vector<std::string> vocab_list = {
      "story",  "characters", "plot",    "writing", "romance",  "mystery",
      "series", "author",     "history", "humor",   "suspense", "fantasy",
      "faith",  "family",     "love",    "world",   "twists"};
  const FeatureVocabulary vocab(vocab_list.begin(), vocab_list.end());
  const TokenizedCorpus hp = tokenize_corpus(hyps, Tokenizer::kPeter);
  const TokenizedCorpus rp = tokenize_corpus(refs, Tokenizer::kPeter);
  const auto detected_refs = detect_features(rp, vocab);
  std::vector<std::vector<std::string>> ground_truth(detected_refs.begin(), detected_refs.end());
  const json input{
      {"hyps", hyps}, {"refs", refs}, {"features", vocab_list}, {"ground_truth", ground_truth}};
  const json pr = run_oracle(python, "peter_reference.py", input);
  ASSERT_FALSE(pr.is_null());
  const auto detected = detect_features(hp, vocab);
  EXPECT_DOUBLE_EQ(feature_matching_ratio(detected, ground_truth), pr["fmr"].get<double>());
  EXPECT_DOUBLE_EQ(feature_coverage_ratio(detected, vocab), pr["fcr"].get<double>());
  EXPECT_DOUBLE_EQ(feature_diversity(detected), pr["div"].get<double>());
  std::printf("xrec-amazon[0:1200] FMR %.4f FCR %.4f DIV %.4f\n", pr["fmr"].get<double>(),
              pr["fcr"].get<double>(), pr["div"].get<double>());
}

}  // namespace
}  // namespace seller::eval
