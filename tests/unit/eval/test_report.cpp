// The join of predictions and references by id (eval/report/joined_corpus.h) and the report with
// bootstrap intervals and paired tests (eval/report/eval_report.h) on tiny hand-made cases.
#include <gtest/gtest.h>

#include "eval/report/eval_report.h"
#include "eval/report/joined_corpus.h"
#include "eval/text/bleu.h"
#include "eval/text/tokenize.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {

namespace ev = seller::eval;
using seller::testing::TempDir;
using seller::testing::write_file;

// Message of the DataError thrown by f, or "" when none is thrown.
template <class F>
std::string data_error(F f) {
  try {
    f();
  } catch (const seller::DataError& e) {
    return e.what();
  }
  return "";
}

ev::JoinedCorpus corpus(std::vector<std::string> hyps, std::vector<std::string> refs) {
  ev::JoinedCorpus c;
  for (size_t i = 0; i < hyps.size(); ++i) c.ids.push_back(std::to_string(i));
  c.hyps = std::move(hyps);
  c.refs = std::move(refs);
  return c;
}

const ev::MetricRow& find(const std::vector<ev::MetricRow>& rows, const std::string& key) {
  for (const auto& r : rows)
    if (r.key == key) return r;
  throw std::runtime_error("no metric " + key);
}

TEST(EvalJoin, JoinsByIdInReferenceOrder) {
  TempDir dir;
  write_file(dir / "p.jsonl",
             "{\"id\": \"b\", \"text\": \"second\"}\n\n{\"id\": 7, \"text\": \"first\"}\n");
  write_file(
      dir / "r.jsonl",
      "{\"id\": \"7\", \"text\": \"ref one\", \"feature\": \"x\"}\n"
      "{\"id\": \"b\", \"text\": \"ref two\", \"feature\": [\"y\", \"z\"], \"rating\": 4}\n");
  const auto j = ev::load_joined(dir / "p.jsonl", dir / "r.jsonl", {});
  ASSERT_EQ(j.hyps.size(), 2u);
  EXPECT_EQ(j.ids, (std::vector<std::string>{"7", "b"}));  // 7 and "7" are one id
  EXPECT_EQ(j.hyps[0], "first");
  EXPECT_EQ(j.refs[1], "ref two");
  ASSERT_EQ(j.features.size(), 2u);
  EXPECT_EQ(j.features[1], (std::vector<std::string>{"y", "z"}));
  EXPECT_EQ(j.missing_predictions, 0);
}

TEST(EvalJoin, ErrorsNameFileAndLine) {
  TempDir dir;
  const auto r = dir / "r.jsonl";
  write_file(r, "{\"id\": 1, \"text\": \"a\"}\n{\"id\": 2, \"text\": \"b\"}\n");
  const auto check = [&](const std::string& content, const std::string& expected) {
    write_file(dir / "p.jsonl", content);
    const std::string msg = data_error([&] { ev::load_joined(dir / "p.jsonl", r, {}); });
    EXPECT_NE(msg.find(expected), std::string::npos) << "message: '" << msg << "'";
  };
  check("{\"id\": 1, \"text\": \"a\"}\n{\"id\": 2, \"text\": \n", "p.jsonl:2: not valid JSON");
  check("{\"id\": 1, \"text\": \"a\"}\n\n{\"id\": \"1\", \"text\": \"b\"}\n",
        "p.jsonl:3: duplicate id 1 (first at line 1)");
  check("{\"id\": 1}\n", "p.jsonl:1: \"text\" must be a string");
  check("{\"text\": \"a\"}\n", "p.jsonl:1: missing \"id\"");
  check("{\"id\": 1.5, \"text\": \"a\"}\n", "p.jsonl:1: \"id\" must be a string or an integer");
  check("{\"id\": 1, \"text\": \"  \"}\n", "p.jsonl:1: empty prediction");
  check("{\"id\": 1, \"text\": \"a\"}\n{\"id\": 9, \"text\": \"b\"}\n",
        "p.jsonl:2: prediction id 9 has no reference");
  check("{\"id\": 1, \"text\": \"\xff\"}\n", "p.jsonl:1: not valid JSON");  // invalid UTF-8
  check("[1, 2]\n", "p.jsonl:1: not a JSON object");
  check("{\"id\": 1, \"text\": \"a\", \"feature\": 3}\n", "p.jsonl:1: \"feature\" must be");
  check("{\"id\": 1, \"text\": \"a\"}\n", "1 reference(s) in");  // id 2 unpredicted
}

TEST(EvalJoin, MissingPredictionsAllowedAreCounted) {
  TempDir dir;
  write_file(dir / "p.jsonl", "{\"id\": 2, \"text\": \"b\"}\n");
  write_file(dir / "r.jsonl",
             "{\"id\": 1, \"text\": \"a\"}\n{\"id\": 2, \"text\": \"b\"}\n{\"id\": 3, \"text\": "
             "\"c\"}\n");
  ev::JoinOptions o;
  o.allow_missing = true;
  const auto j = ev::load_joined(dir / "p.jsonl", dir / "r.jsonl", o);
  EXPECT_EQ(j.hyps.size(), 1u);
  EXPECT_EQ(j.missing_predictions, 2);
  EXPECT_EQ(j.missing_sample, (std::vector<std::string>{"1", "3"}));
  EXPECT_TRUE(j.features.empty());
  o.require_features = true;
  const std::string msg = data_error([&] { ev::load_joined(dir / "p.jsonl", dir / "r.jsonl", o); });
  EXPECT_NE(msg.find("r.jsonl:2: no \"feature\""), std::string::npos) << msg;
}

TEST(EvalReport, WeightedStatisticsByHand) {
  // Pair 0: "a b c" vs "a b d": 2 of 3 unigrams match, lengths equal (BP 1) -> BLEU-1 = 66.67.
  // Pair 1: "x y" vs "x y": all match -> BLEU-1 = 100.
  const ev::PairStatistics s(corpus({"a b c", "x y"}, {"a b d", "x y"}));
  const auto only0 = s.weighted({1, 0});
  const auto only1 = s.weighted({0, 3});
  const auto both = s.weighted({1, 1});
  EXPECT_NEAR(only0[0], 200.0 / 3, 1e-9);  // bleu1_peter
  EXPECT_NEAR(only1[0], 100.0, 1e-9);
  EXPECT_NEAR(both[0], 80.0, 1e-9);  // (2 + 2) / (3 + 2) unigrams, lengths 5 vs 5
  // ROUGE-1 F (rouge_score), the mean over pairs: pair 0 P = R = 2/3, pair 1 1 -> 5/6.
  const size_t r1f_rs = 8 + 9 + 2;
  EXPECT_EQ(s.metrics()[r1f_rs].key, "rouge1_f_rouge_score");
  EXPECT_NEAR(both[r1f_rs], 5.0 / 6, 1e-12);
  // Weights 2:1 -> (2 * 2/3 + 1) / 3.
  EXPECT_NEAR(s.weighted({2, 1})[r1f_rs], (4.0 / 3 + 1) / 3, 1e-12);
}

TEST(EvalReport, ValuesAreTheLibrarysAndIntervalsContainThem) {
  std::vector<std::string> hyps, refs;
  for (int i = 0; i < 40; ++i) {
    hyps.push_back("the battery lasts " + std::to_string(i % 7) + " days and the screen is bright");
    refs.push_back("battery life is " + std::to_string(i % 5) + " days , the screen is great");
  }
  ev::JoinedCorpus c = corpus(hyps, refs);
  for (int i = 0; i < 40; ++i) c.features.push_back({i % 2 ? "battery" : "screen"});
  ev::BootstrapOptions o;
  o.seed = 3;
  o.replicates = 200;
  const auto report = ev::evaluate_system(c, o);
  const auto peter = ev::peter_bleu(ev::tokenize_corpus(hyps, ev::Tokenizer::kPeter),
                                    ev::tokenize_corpus(refs, ev::Tokenizer::kPeter), 4);
  EXPECT_EQ(find(report.rows, "bleu4_peter").value, peter.bleu);
  // The bootstrap's all-ones statistic agrees with the library too.
  const ev::PairStatistics s(c);
  EXPECT_NEAR(s.weighted(std::vector<uint32_t>(40, 1))[3], peter.bleu, 1e-9);
  for (const auto& r : report.rows) {
    if (!r.ci) continue;
    EXPECT_LE(r.ci->lower, r.value + 1e-12) << r.key;
    EXPECT_GE(r.ci->upper, r.value - 1e-12) << r.key;
  }
  EXPECT_TRUE(find(report.rows, "fmr_peter").ci.has_value());
  EXPECT_FALSE(find(report.rows, "usr_peter").ci.has_value());
  EXPECT_FALSE(find(report.rows, "div_peter").ci.has_value());
  ev::ReportContext ctx;
  ctx.n = 40;
  ctx.bootstrap = o;
  const std::string json = ev::report_json(report, ctx).dump();
  EXPECT_EQ(json, ev::report_json(ev::evaluate_system(c, o), ctx).dump());  // deterministic
  EXPECT_NE(json.find("\"seed\":3"), std::string::npos);
  const std::string md = ev::report_markdown(report, ctx);
  EXPECT_NE(md.find("| BLEU-4 (PETER tokens, TF-NMT compute_bleu) |"), std::string::npos) << md;
}

TEST(EvalReport, PairedComparison) {
  std::vector<std::string> refs, good, bad;
  for (int i = 0; i < 60; ++i) {
    refs.push_back("great sound quality for " + std::to_string(i) + " dollars and long battery");
    good.push_back("great sound quality for " + std::to_string(i) + " dollars");
    bad.push_back("it arrived on time number " + std::to_string(i));
  }
  ev::BootstrapOptions o;
  o.replicates = 300;
  const auto same = ev::compare_systems(corpus(good, refs), corpus(good, refs), o);
  for (const auto& r : same) {
    if (r.test) {
      EXPECT_DOUBLE_EQ(r.test->p_value, 0.5) << r.a.key;
    }
  }
  const auto rows = ev::compare_systems(corpus(bad, refs), corpus(good, refs), o);
  for (const auto& r : rows) {
    if (!r.test || r.a.key.rfind("rouge", 0) != 0) continue;
    EXPECT_LT(r.test->p_value, 0.05) << r.a.key;
  }
  ev::ReportContext ctx;
  ctx.systems = {"a.jsonl", "b.jsonl"};
  ctx.bootstrap = o;
  const std::string md = ev::comparison_markdown(rows, ctx);
  EXPECT_NE(md.find("0.000 *"), std::string::npos) << md;
  auto shorter = corpus(good, refs);
  shorter.ids.pop_back();
  shorter.hyps.pop_back();
  shorter.refs.pop_back();
  EXPECT_THROW(ev::compare_systems(corpus(good, refs), shorter, o), seller::DataError);
}

}  // namespace
