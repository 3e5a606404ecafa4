// `seller eval` as a user runs it: one system with intervals, two systems with the paired test,
// join errors with file:line and no output left behind, and XRec's released outputs end to end
// (the BLEU printed equals eval::peter_bleu on the same texts); with a prepared synthetic dataset
// (--data): the utility blocks beside their controls, FMR/FCR/DIV on the mined aspect lexicon,
// PNG plots, training curves, and bad input naming the record.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "eval/plot/gnuplot_plot.h"
#include "eval/plot/png_info.h"
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

// A synthetic dataset prepared by the CLI, and JSONL pairs for each user's last interaction
// (its test item under leave-one-out): references = the real review with user, item and rating;
// predictions = the review's first sentence, a weaker explanation of the same item.
struct SyntheticEval {
  seller::testing::TempDir dir;
  // users/items: the MiniLM test keeps the encoder's CPU work small.
  explicit SyntheticEval(int users = 200, int items = 0) {
    auto r = seller("data generate --output " + (dir / "raw.jsonl").string() +
                    " --set synthetic.users=" + std::to_string(users) +
                    (items > 0 ? " --set synthetic.items=" + std::to_string(items) : ""));
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = seller("data prepare --format synthetic --input " + (dir / "raw.jsonl").string() +
               " --output " + (dir / "ds").string());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::map<std::string, nlohmann::json> last;
    std::istringstream in(read_file(dir / "raw.jsonl"));
    for (std::string line; std::getline(in, line);) {
      auto j = nlohmann::json::parse(line);
      auto& l = last[j["user"].get<std::string>()];
      if (l.is_null() || j["timestamp"].get<int64_t>() >= l["timestamp"].get<int64_t>()) l = j;
    }
    std::string refs, preds;
    int id = 0;
    for (const auto& [user, j] : last) {
      const std::string review = j["review"];
      refs += nlohmann::json{{"id", id},
                             {"text", review},
                             {"user", user},
                             {"item", j["item"]},
                             {"rating", j["rating"]}}
                  .dump() +
              "\n";
      preds += nlohmann::json{{"id", id}, {"text", review.substr(0, review.find('.') + 1)}}.dump() +
               "\n";
      ++id;
    }
    write_file(dir / "r.jsonl", refs);
    write_file(dir / "p.jsonl", preds);
  }
  std::string args() const {
    return " --ref " + (dir / "r.jsonl").string() + " --data " + (dir / "ds").string() +
           " --bootstrap 50 --seed 3 --out ";
  }
};

TEST(CliEval, DataAddsUtilityLexiconAndPlots) {
  SyntheticEval s;
  const std::string out = (s.dir / "out").string();
  const bool plots = seller::eval::gnuplot_available();
  auto r = seller("eval --pred " + (s.dir / "p.jsonl").string() + s.args() + out +
                  (plots ? " --plot" : ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(read_file(fs::path(out) / "metrics.json"));
  EXPECT_EQ(j["feature_source"]["kind"], "lexicon");
  EXPECT_FALSE(j["feature_source"]["lexicon"].empty());
  EXPECT_TRUE(j["metrics"].contains("fmr_peter"));
  EXPECT_TRUE(j["metrics"].contains("div_peter"));
  const auto& id = j["utility"]["identification"];
  EXPECT_EQ(id["conditions"], nlohmann::json({"prediction", "real_review", "shuffled", "no_text"}));
  const auto hr10 = [&](const char* c) { return id["metrics"]["hr10"][c]["value"].get<double>(); };
  EXPECT_GT(hr10("real_review"), hr10("shuffled"));
  EXPECT_GT(hr10("prediction"), hr10("shuffled"));
  EXPECT_EQ(hr10("no_text"), 0.0);  // all cosines 0: last among 100 candidates
  EXPECT_NE(id["method"].get<std::string>().find("`tfidf`"), std::string::npos);
  EXPECT_EQ(id["metrics"]["mrr"]["prediction"]["ci"].size(), 2u);
  const auto& rating = j["utility"]["rating"];
  EXPECT_LT(rating["metrics"]["rmse"]["real_review"]["value"].get<double>(),
            rating["metrics"]["rmse"]["no_text"]["value"].get<double>());
  EXPECT_EQ(rating["tests"][0]["a"], "shuffled");
  EXPECT_TRUE(j["utility"]["skipped"].contains("lift"));
  const std::string md = read_file(fs::path(out) / "report.md");
  EXPECT_NE(md.find("### identification"), std::string::npos);
  EXPECT_NE(md.find("| RMSE |"), std::string::npos);
  if (!plots) GTEST_SKIP() << "gnuplot missing: plots not checked";
  ASSERT_EQ(j["plots"].size(), 4u);
  for (const auto& p : j["plots"]) {
    const auto info = seller::eval::read_png_info(fs::path(out) / p.get<std::string>());
    EXPECT_TRUE(info && info->width == 1000 && info->height == 600) << p;
  }
}

TEST(CliEval, CompareWithDataTestsBAgainstA) {
  SyntheticEval s;
  auto r =
      seller("eval --compare " + (s.dir / "p.jsonl").string() + " " + (s.dir / "r.jsonl").string() +
             s.args() + (s.dir / "cmp").string() + " --no-plot");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(read_file(s.dir / "cmp" / "metrics.json"));
  const auto& t = j["utility"]["identification"]["tests"][0];
  EXPECT_EQ(t["a"], "A");
  EXPECT_EQ(t["b"], "B");
  EXPECT_LT(t["metrics"]["mrr"]["p_value_b_better"].get<double>(), 0.05);  // B = the references
  EXPECT_EQ(j["plots"].size(), 0u);
}

TEST(CliEval, BadInputNamesTheRecord) {
  SyntheticEval s;
  const auto run = [&](const std::string& pred, const std::string& ref) {
    write_file(s.dir / "bp.jsonl", pred);
    write_file(s.dir / "br.jsonl", ref);
    return seller("eval --pred " + (s.dir / "bp.jsonl").string() + " --ref " +
                  (s.dir / "br.jsonl").string() + " --data " + (s.dir / "ds").string() +
                  " --no-plot --bootstrap 10 --out " + (s.dir / "bad").string());
  };
  const std::string two_refs =
      "{\"id\":1,\"text\":\"a b\",\"item\":\"i001\"}\n"
      "{\"id\":2,\"text\":\"c d\",\"item\":\"nope\"}\n";
  struct Case {
    std::string pred, ref, needle;
  } cases[] = {
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"text\":\"\xc3\x28\"}\n", two_refs,
       "bp.jsonl:2: not valid JSON"},  // invalid UTF-8
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"text\":\" \"}\n", two_refs,
       "bp.jsonl:2: empty prediction (id 2)"},
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":3,\"text\":\"x\"}\n", two_refs,
       "bp.jsonl:2: prediction id 3 has no reference"},
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2}\n", two_refs, "bp.jsonl:2: \"text\" must be"},
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"text\":\"x\"}\n", two_refs,
       "br.jsonl:2 (id 2): item \"nope\" is not an item of the dataset"},
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"text\":\"x\"}\n",
       "{\"id\":1,\"text\":\"a\",\"item\":\"i001\"}\n{\"id\":2,\"text\":\"c\"}\n",
       "br.jsonl:2 (id 2): no \"item\""},
      {"{\"id\":1,\"text\":\"ok\"}\n{\"id\":2,\"text\":\"x\"}\n",
       "{\"id\":1,\"text\":\"a\",\"rating\":\"5\"}\n{\"id\":2,\"text\":\"c\"}\n",
       "br.jsonl:1: \"rating\" must be a finite number (id 1)"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.pred, c.ref);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.needle << "\n" << r.output;
    EXPECT_FALSE(fs::exists(s.dir / "bad" / "metrics.json"));
  }
}

TEST(CliEval, CurvesAndMissingPlotter) {
  TempDir dir;
  write_file(dir / "metrics.jsonl",
             "{\"epoch\":1,\"loss\":2.0,\"valid_ndcg10\":0.1}\n"
             "{\"epoch\":2,\"loss\":1.5,\"valid_ndcg10\":0.2}\n");
  write_file(dir / "r.jsonl", jsonl({"a b c", "d e f"}));
  write_file(dir / "p.jsonl", jsonl({"a b", "d e"}));
  // Without the tool: --plot is an error that says what to install; otherwise a note.
  const std::string no_tool = "SELLER_GNUPLOT=/nonexistent/gnuplot ";
  auto r = run_command(no_tool + seller::testing::seller_binary() + " eval --pred " +
                       (dir / "p.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
                       " --bootstrap 10 --plot --out " + (dir / "o1").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("gnuplot-nox"), std::string::npos) << r.output;
  r = run_command(no_tool + seller::testing::seller_binary() + " eval --pred " +
                  (dir / "p.jsonl").string() + " --ref " + (dir / "r.jsonl").string() +
                  " --bootstrap 10 --out " + (dir / "o2").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("note: no plots"), std::string::npos) << r.output;
  if (!seller::eval::gnuplot_available()) GTEST_SKIP() << "gnuplot missing";
  r = seller("eval --curves " + (dir / "metrics.jsonl").string() + " --out " +
             (dir / "curves").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(seller::eval::read_png_info(dir / "curves" / "curve_loss.png"));
  EXPECT_TRUE(seller::eval::read_png_info(dir / "curves" / "curve_valid_ndcg10.png"));
  EXPECT_FALSE(fs::exists(dir / "curves" / "curve_epoch.png"));  // epoch is the x axis
}

}  // namespace

namespace {

bool built_with_torch() { return seller("--version").output.find("torch=on") != std::string::npos; }

// --encoder: MiniLM replaces tfidf in identification and adds the embedding score; the encoder's
// name goes beside every figure (Markdown labels, JSON "encoder").
TEST(CliEval, EncoderAddsEmbeddingScoreWithItsName) {
  SyntheticEval s(60, 40);
  const auto model = seller::testing::minilm_dir();
  if (!built_with_torch()) {
    auto r = seller("eval --pred " + (s.dir / "p.jsonl").string() + s.args() +
                    (s.dir / "e").string() + " --no-plot --encoder /nonexistent");
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.output.find("needs a LibTorch build"), std::string::npos) << r.output;
    GTEST_SKIP() << "seller built without LibTorch: --encoder is an error (checked)";
  }
  if (!model) GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SELLER_MINILM_DIR";
  auto r = seller("eval --pred " + (s.dir / "p.jsonl").string() + s.args() +
                  (s.dir / "e").string() + " --no-plot --encoder " + model->string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(read_file(s.dir / "e" / "metrics.json"));
  const auto& es = j["embedding_score"];
  EXPECT_EQ(es["encoder"], "all-MiniLM-L6-v2");
  EXPECT_EQ(es["conditions"], nlohmann::json({"prediction", "shuffled"}));
  const auto f1 = [&](const char* c) {
    return es["metrics"]["bertscore_f1"][c]["value"].get<double>();
  };
  EXPECT_GT(f1("prediction"), f1("shuffled"));  // the review's first sentence vs another's
  EXPECT_LT(es["tests"][0]["metrics"]["bertscore_f1"]["p_value_b_better"].get<double>(), 0.05);
  const auto& id = j["utility"]["identification"];
  EXPECT_EQ(id["encoder"], "all-MiniLM-L6-v2");
  EXPECT_GT(id["metrics"]["hr10"]["prediction"]["value"].get<double>(),
            id["metrics"]["hr10"]["shuffled"]["value"].get<double>());
  const std::string md = read_file(s.dir / "e" / "report.md");
  for (const char* label :
       {"## Embedding similarity (all-MiniLM-L6-v2)", "| BERTScore F1 (all-MiniLM-L6-v2) |",
        "| sentence cosine (all-MiniLM-L6-v2) |", "| HR@10 (all-MiniLM-L6-v2) |"})
    EXPECT_NE(md.find(label), std::string::npos) << label << "\n" << md;
  // Without --encoder the score is skipped with the reason, and identification stays tfidf.
  r = seller("eval --pred " + (s.dir / "p.jsonl").string() + s.args() + (s.dir / "t").string() +
             " --no-plot");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto t = nlohmann::json::parse(read_file(s.dir / "t" / "metrics.json"));
  EXPECT_NE(t["embedding_score"]["skipped"].get<std::string>().find("--encoder"),
            std::string::npos);
  EXPECT_EQ(t["utility"]["identification"]["encoder"], "tfidf");
}

// --lift is its own mode and needs a run folder (the protocol itself: tests/model/test_lift.cpp).
TEST(CliEval, LiftErrorsNameTheProblem) {
  TempDir dir;
  auto r = seller("eval --lift " + (dir / "none").string() + " --out " + (dir / "o").string());
  EXPECT_EQ(r.exit_code, 1);
  if (built_with_torch())
    EXPECT_NE(r.output.find("has no config.yaml"), std::string::npos) << r.output;
  else
    EXPECT_NE(r.output.find("needs a LibTorch build"), std::string::npos) << r.output;
  write_file(dir / "p.jsonl", jsonl({"a"}));
  r = seller("eval --lift " + (dir / "none").string() + " --pred " + (dir / "p.jsonl").string() +
             " --out " + (dir / "o").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("its own mode"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "o" / "metrics.json"));
}

}  // namespace
