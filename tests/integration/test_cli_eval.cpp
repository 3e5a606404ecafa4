// `seller eval` as a user runs it: one system with intervals, two systems with the paired test,
// join errors with file:line and no output left behind, and XRec's released outputs end to end
// (the BLEU printed equals eval::peter_bleu on the same texts).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <string>

#include "eval/text/bleu.h"
#include "eval/text/tokenize.h"
#include "tests/support/test_support.h"

namespace {

namespace fs = std::filesystem;
using seller::testing::CommandResult;
using seller::testing::read_file;
using seller::testing::run_command;
using seller::testing::TempDir;
using seller::testing::write_file;

CommandResult seller(const std::string& args) {
  return run_command(seller::testing::seller_binary() + " " + args);
}

std::string jsonl(const std::vector<std::string>& texts) {
  std::string out;
  for (size_t i = 0; i < texts.size(); ++i)
    out += nlohmann::json{{"id", i}, {"text", texts[i]}}.dump() + "\n";
  return out;
}

TEST(CliEval, OneSystemWritesMetricsAndReport) {
  TempDir dir;
  write_file(dir / "r.jsonl", jsonl({"the screen is bright and sharp", "battery lasts two days",
                                     "great value for the money", "sound is clear and loud"}));
  write_file(dir / "p.jsonl", jsonl({"the screen is bright", "battery lasts a day",
                                     "good value for money", "the sound is loud"}));
  const std::string base = "eval --pred " + (dir / "p.jsonl").string() + " --ref " +
                           (dir / "r.jsonl").string() + " --bootstrap 100 --seed 9 --out ";
  auto r = seller(base + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("| BLEU-4 (PETER tokens, TF-NMT compute_bleu) |"), std::string::npos)
      << r.output;
  const auto j = nlohmann::json::parse(read_file(dir / "out" / "metrics.json"));
  EXPECT_EQ(j["n"], 4);
  EXPECT_EQ(j["bootstrap"]["seed"], 9);
  EXPECT_EQ(j["bootstrap"]["replicates"], 100);
  EXPECT_TRUE(j["metrics"].contains("rougeL_f_rouge_score"));
  EXPECT_EQ(j["metrics"]["bleu1_peter"]["ci"].size(), 2u);
  EXPECT_EQ(r.output.rfind(read_file(dir / "out" / "report.md"), 0), 0u);  // the table printed
  // Same seed, same bytes.
  ASSERT_EQ(seller(base + (dir / "out2").string()).exit_code, 0);
  EXPECT_EQ(read_file(dir / "out" / "metrics.json"), read_file(dir / "out2" / "metrics.json"));
}

TEST(CliEval, ErrorsLeaveNoMetrics) {
  TempDir dir;
  write_file(dir / "r.jsonl", jsonl({"a b", "c d", "e f"}));
  write_file(dir / "p.jsonl", "{\"id\": 0, \"text\": \"a b\"}\n{\"id\": 1, \"text\": }\n");
  const std::string out = (dir / "out").string();
  auto r = seller("eval --pred " + (dir / "p.jsonl").string() + " --ref " +
                  (dir / "r.jsonl").string() + " --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("p.jsonl:2"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(fs::path(out) / "metrics.json"));

  write_file(dir / "p.jsonl", jsonl({"a b"}));
  r = seller("eval --pred " + (dir / "p.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
             " --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("2 reference(s)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(fs::path(out) / "metrics.json"));

  r = seller("eval --pred " + (dir / "p.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
             " --out " + out + " --allow-missing --bootstrap 10");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 references have no prediction"), std::string::npos) << r.output;
  const auto j = nlohmann::json::parse(read_file(fs::path(out) / "metrics.json"));
  EXPECT_EQ(j["missing_predictions"], 2);

  r = seller("eval --ref " + (dir / "r.jsonl").string() + " --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;  // neither --pred nor --compare
}

TEST(CliEval, CompareMarksSignificance) {
  TempDir dir;
  std::vector<std::string> refs, good, bad;
  for (int i = 0; i < 50; ++i) {
    refs.push_back("great sound quality for " + std::to_string(i) + " dollars and long battery");
    good.push_back("great sound quality for " + std::to_string(i) + " dollars");
    bad.push_back("it arrived on time number " + std::to_string(i));
  }
  write_file(dir / "r.jsonl", jsonl(refs));
  write_file(dir / "a.jsonl", jsonl(bad));
  write_file(dir / "b.jsonl", jsonl(good));
  auto r = seller("eval --compare " + (dir / "a.jsonl").string() + " " +
                  (dir / "b.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
                  " --bootstrap 200 --out " + (dir / "cmp").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("0.000 *"), std::string::npos) << r.output;
  auto j = nlohmann::json::parse(read_file(dir / "cmp" / "metrics.json"));
  EXPECT_LT(j["metrics"]["rouge1_f_peter"]["p_value_b_better"].get<double>(), 0.05);
  EXPECT_EQ(j["metrics"]["rouge1_f_peter"]["significant_at_0.05"], true);

  r = seller("eval --compare " + (dir / "b.jsonl").string() + " " + (dir / "b.jsonl").string() +
             " --ref " + (dir / "r.jsonl").string() + " --bootstrap 200 --out " +
             (dir / "same").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  j = nlohmann::json::parse(read_file(dir / "same" / "metrics.json"));
  EXPECT_DOUBLE_EQ(j["metrics"]["bleu4_peter"]["p_value_b_better"].get<double>(), 0.5);
  EXPECT_EQ(r.output.find(" *"), std::string::npos) << r.output;
}

TEST(CliEval, XrecAmazonBleuEqualsLibrary) {
  SELLER_SHARED_OR_SKIP(xrec, "data/xrec-test/amazon");
  TempDir dir;
  const auto preds =
      nlohmann::json::parse(read_file(xrec / "tst_pred.json")).get<std::vector<std::string>>();
  const auto refs =
      nlohmann::json::parse(read_file(xrec / "tst_ref.json")).get<std::vector<std::string>>();
  ASSERT_EQ(preds.size(), refs.size());
  write_file(dir / "p.jsonl", jsonl(preds));
  write_file(dir / "r.jsonl", jsonl(refs));
  auto r =
      seller("eval --pred " + (dir / "p.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
             " --bootstrap 200 --seed 1 --out " + (dir / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  namespace ev = seller::eval;
  const auto lib = ev::peter_bleu(ev::tokenize_corpus(preds, ev::Tokenizer::kPeter),
                                  ev::tokenize_corpus(refs, ev::Tokenizer::kPeter), 4);
  const auto j = nlohmann::json::parse(read_file(dir / "out" / "metrics.json"));
  EXPECT_EQ(j["n"], 3000);
  EXPECT_DOUBLE_EQ(j["metrics"]["bleu4_peter"]["value"].get<double>(), lib.bleu);
  char printed[128];
  std::snprintf(printed, sizeof printed, "| BLEU-4 (PETER tokens, TF-NMT compute_bleu) | %.2f |",
                lib.bleu);
  EXPECT_NE(r.output.find(printed), std::string::npos) << printed << "\n" << r.output;
  EXPECT_NE(r.output.find("| 15.90 |"), std::string::npos);  // docs/eval.md's XRec table
  const auto ci = j["metrics"]["bleu4_peter"]["ci"];
  EXPECT_LT(ci[0].get<double>(), lib.bleu);
  EXPECT_GT(ci[1].get<double>(), lib.bleu);
}

}  // namespace
