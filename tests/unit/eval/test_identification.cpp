// Utility metrics (eval/utility): hashed TF-IDF against its formula, cosine scoring, candidate
// sampling, pessimistic identification ranks on hand-made items, the seeded derangement, the
// bootstrap summary (RMSE as the root of the resampled mean), the parallel corpus metrics (equal
// to the serial library bit for bit), and run_utility's skips and record-naming errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

#include "eval/stats/bootstrap.h"
#include "eval/text/bleu.h"
#include "eval/text/rouge.h"
#include "eval/text/tokenize.h"
#include "eval/utility/identification.h"
#include "eval/utility/parallel.h"
#include "eval/utility/utility_eval.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {

using namespace seller::eval;

TEST(Tfidf, MatchesFormula) {
  HashedTfidfOptions o;
  o.dim = 1u << 20;
  const HashedTfidf t({"a b", "a c"}, o);
  const uint32_t ha = fnv1a64("a") % o.dim, hb = fnv1a64("b") % o.dim;
  ASSERT_NE(ha, hb);
  // idf(a) = ln(3/3) + 1 = 1, idf(b) = ln(3/2) + 1; tf(a) = 1 + ln 2 in "A a, b!".
  const double wa = 1 + std::log(2.0), wb = std::log(1.5) + 1, norm = std::hypot(wa, wb);
  const SparseVector v = t.transform("A a, b!");
  ASSERT_EQ(v.index.size(), 2u);
  for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(v.value[k], (v.index[k] == ha ? wa : wb) / norm, 1e-6);
  EXPECT_TRUE(t.transform("").index.empty());
  // FNV-1a 64 reference values (the published test vectors).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

TEST(Cosine, DenseSparseAndZero) {
  FloatMatrix m;
  m.rows = 3;
  m.cols = 8;
  m.data.assign(24, 0.0f);
  m.row(0)[0] = 3;
  m.row(0)[1] = 4;  // |.| = 5
  m.row(1)[1] = 2;
  const CosineIndex index(m);
  std::vector<float> q(8, 0.0f), out(3);
  q[1] = 1;  // sparse query
  index.scores(q, {}, out);
  EXPECT_FLOAT_EQ(out[0], 0.8f);
  EXPECT_FLOAT_EQ(out[1], 1.0f);
  EXPECT_EQ(out[2], 0.0f);              // zero candidate
  std::fill(q.begin(), q.end(), 1.0f);  // dense query: cos = (3 + 4) / (5 sqrt 8)
  const std::vector<uint32_t> rows = {0};
  std::vector<float> one(1);
  index.scores(q, rows, one);
  EXPECT_NEAR(one[0], 7 / (5 * std::sqrt(8.0)), 1e-6);
  std::fill(q.begin(), q.end(), 0.0f);
  index.scores(q, {}, out);
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0}));
}

TEST(Identification, CandidatesAreSeededAndDistinct) {
  IdentificationOptions o;
  o.negatives = 5;
  o.seed = 3;
  const auto c = identification_candidates(17, 100, 4, o);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[0], 17u);
  EXPECT_EQ(std::set<uint32_t>(c.begin(), c.end()).size(), 6u);
  EXPECT_EQ(c, identification_candidates(17, 100, 4, o));  // same (seed, query)
  EXPECT_NE(c, identification_candidates(17, 100, 5, o));  // another query
  o.negatives = 99;
  EXPECT_EQ(identification_candidates(2, 100, 0, o).size(), 100u);  // all items
  o.negatives = 0;
  EXPECT_EQ(identification_candidates(2, 10, 0, o).size(), 10u);
  EXPECT_EQ(candidates_description(10, o), "all 10 items");
}

TEST(Identification, PessimisticRanksOnHandItems) {
  const std::vector<std::string> items = {"red apple fruit", "blue car engine", "green tree leaf"};
  const TextEmbedder e = make_tfidf_embedder(items);
  const CosineIndex index(e.embed(items));
  IdentificationOptions o;
  o.negatives = 0;
  // "apple" -> item 0 alone scores > 0: rank 1. "engine" for target 0: item 1 scores higher and
  // item 2 ties at 0, so rank 3. Empty text ties everywhere: last (3).
  const auto ranks =
      identification_ranks(e, {"an apple", "engine", "", "leaf and tree"}, {0, 0, 1, 2}, index, o);
  EXPECT_EQ(ranks, (std::vector<uint64_t>{1, 3, 3, 1}));
  const auto v = identification_values(ranks);
  EXPECT_EQ(v[0], (std::vector<double>{1, 1, 1, 1}));
  EXPECT_EQ(v[1], (std::vector<double>{0, 1, 1, 1.0 / 3}));
  EXPECT_THROW(identification_ranks(e, {"x"}, {3}, index, o), seller::DataError);
  EXPECT_THROW(identification_ranks(e, {"x"}, {}, index, o), seller::DataError);
}

TEST(Identification, SameRanksForEveryThreadCount) {
  std::vector<std::string> items, queries;
  std::vector<uint32_t> targets;
  seller::eval::SplitMix64 rng(7);
  const auto word = [&] { return "w" + std::to_string(rng.below(300)); };
  for (int i = 0; i < 200; ++i) items.push_back(word() + " " + word() + " " + word());
  for (int i = 0; i < 700; ++i) {  // more than one embedding block (512)
    targets.push_back(static_cast<uint32_t>(rng.below(200)));
    queries.push_back(word() + " " + items[targets.back()].substr(0, 4));
  }
  const TextEmbedder e = make_tfidf_embedder(items);
  const CosineIndex index(e.embed(items));
  IdentificationOptions o;
  o.negatives = 20;
  o.threads = 1;
  const auto r1 = identification_ranks(e, queries, targets, index, o);
  o.threads = 3;
  EXPECT_EQ(r1, identification_ranks(e, queries, targets, index, o));
}

TEST(Derangement, NoFixedPointAndSeeded) {
  for (size_t n = 2; n < 60; ++n) {
    const auto p = seeded_derangement(n, n);
    std::vector<size_t> sorted = p;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < n; ++i) {
      EXPECT_NE(p[i], i);
      EXPECT_EQ(sorted[i], i);
    }
    EXPECT_EQ(p, seeded_derangement(n, n));
  }
  EXPECT_THROW(seeded_derangement(1, 0), seller::DataError);
}

TEST(UtilitySummary, RootOfMeanAndPairedTest) {
  UtilityBlock b;
  b.name = "rating";
  b.metrics = rating_metrics();
  b.conditions = {"good", "bad"};
  // squared error, absolute error, like agreement per pair.
  b.values = {{{1, 1, 1}, {4, 2, 1}, {0, 0, 1}, {1, 1, 0}},
              {{4, 2, 0}, {9, 3, 0}, {4, 2, 1}, {4, 2, 0}}};
  b.tests = {{1, 0}};
  BootstrapOptions o;
  o.replicates = 200;
  const UtilitySummary s = summarize_utility(b, o);
  EXPECT_DOUBLE_EQ(s.figures[0][0].value, std::sqrt(6.0 / 4));  // RMSE
  EXPECT_DOUBLE_EQ(s.figures[0][1].value, 1.0);                 // MAE
  EXPECT_DOUBLE_EQ(s.figures[0][2].value, 0.75);
  EXPECT_DOUBLE_EQ(s.figures[1][0].value, std::sqrt(21.0 / 4));
  EXPECT_LE(s.figures[0][0].ci.lower, s.figures[0][0].value);
  EXPECT_GE(s.figures[0][0].ci.upper, s.figures[0][0].value);
  // "good" has lower error on every pair: no replicate where it fails to beat "bad".
  EXPECT_EQ(s.tested[0][0].p_value, 0.0);
  EXPECT_EQ(s.tested[0][1].p_value, 0.0);
  const auto j = utility_json({s}, {{"lift", "reserved"}});
  EXPECT_DOUBLE_EQ(j["rating"]["metrics"]["rmse"]["good"]["value"].get<double>(), std::sqrt(1.5));
  EXPECT_EQ(j["rating"]["tests"][0]["a"], "bad");
  EXPECT_EQ(j["skipped"]["lift"], "reserved");
  EXPECT_NE(utility_markdown({s}, {}, 0.95).find("| RMSE | 1.2247"), std::string::npos);
}

TEST(ParallelMetrics, EqualSerialLibraryBitForBit) {
  seller::eval::SplitMix64 rng(11);
  std::vector<std::string> hyps, refs;
  const char* words[] = {"the",    "battery", "is",      "great", ",",
                         "screen", "bright",  "sound",   "it's",  "value",
                         "money",  "!",       "quality", "fit",   "size"};
  for (int i = 0; i < 9000; ++i) {
    std::string h, r;
    for (uint64_t k = 1 + rng.below(12); k > 0; --k) h += std::string(words[rng.below(15)]) + " ";
    for (uint64_t k = 1 + rng.below(12); k > 0; --k) r += std::string(words[rng.below(15)]) + " ";
    hyps.push_back(h);
    refs.push_back(r);
  }
  const BleuResult serial = sacrebleu_bleu(hyps, refs);
  const auto peter = peter_bleu(tokenize_corpus(hyps, Tokenizer::kPeter),
                                tokenize_corpus(refs, Tokenizer::kPeter), 4);
  for (size_t threads : {1, 2, 3, 8}) {
    EXPECT_EQ(sacrebleu_bleu_parallel(hyps, refs, {}, threads).bleu, serial.bleu);
    EXPECT_EQ(peter_bleu_parallel(hyps, refs, 4, threads).bleu, peter.bleu);
    for (auto v : {RougeVariant::kPeter, RougeVariant::kRougeScore}) {
      const RougeScores a = rouge_corpus(hyps, refs, v);
      const RougeScores b = rouge_corpus_parallel(hyps, refs, v, threads);
      EXPECT_EQ(a.rouge1.f, b.rouge1.f);
      EXPECT_EQ(a.rouge2.precision, b.rouge2.precision);
      EXPECT_EQ(a.rougeL.recall, b.rougeL.recall);
    }
  }
  EXPECT_THROW(sacrebleu_bleu_parallel({}, {}, {}, 2), seller::DataError);
}

TEST(RunUtility, SkipsAndNamesRecords) {
  namespace t = seller::testing;
  t::TempDir dir;
  UtilityData d;
  d.source = "synthetic";
  d.item_texts = {"red apple fruit", "blue car engine", "green tree leaf"};
  d.item_index = {{"i0", 0}, {"i1", 1}, {"i2", 2}};
  d.train_reviews = {"great apple", "bad car", "fine tree"};
  d.train_ratings = {5, 1, 3};
  const std::vector<std::string> ids = {"0", "1", "2"}, refs = {"apple", "car", "tree"},
                                 hyps = {"an apple", "a car", "a leaf"};
  t::write_file(dir / "p.jsonl",
                "{\"id\":0,\"text\":\"an apple\"}\n{\"id\":1,\"text\":\"a car\"}\n"
                "{\"id\":2,\"text\":\"a leaf\"}\n");
  const std::vector<UtilitySystem> sys = {{"prediction", &hyps, dir / "p.jsonl"}};
  UtilityOptions o;
  o.bootstrap.replicates = 20;
  o.identification.negatives = 0;

  auto run = run_utility(ids, refs, dir / "r.jsonl", sys, nullptr, o);
  EXPECT_TRUE(run.blocks.empty());
  EXPECT_EQ(run.skipped[0].second, "needs --data <prepared dataset>");

  t::write_file(dir / "r.jsonl",
                "{\"id\":0,\"text\":\"apple\",\"item\":\"i0\",\"rating\":5}\n"
                "{\"id\":1,\"text\":\"car\",\"item\":\"i1\",\"rating\":1}\n"
                "{\"id\":2,\"text\":\"tree\",\"item\":\"i2\",\"rating\":3}\n");
  run = run_utility(ids, refs, dir / "r.jsonl", sys, &d, o);
  ASSERT_EQ(run.blocks.size(), 2u);
  EXPECT_EQ(run.blocks[0]->conditions,
            (std::vector<std::string>{"prediction", "real_review", "shuffled", "no_text"}));
  EXPECT_DOUBLE_EQ(run.summaries[0].figures[1][0].value, 1.0);  // real review: HR@1 = 1
  EXPECT_DOUBLE_EQ(run.summaries[0].figures[3][0].value, 0.0);  // no text: HR@1 = 0

  const auto expect_error = [&](const std::string& ref, const std::string& needle) {
    t::write_file(dir / "r.jsonl", ref);
    try {
      run_utility(ids, refs, dir / "r.jsonl", sys, &d, o);
      ADD_FAILURE() << "no error for " << ref;
    } catch (const seller::DataError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error(
      "{\"id\":0,\"text\":\"a\",\"item\":\"i0\"}\n{\"id\":1,\"text\":\"b\"}\n"
      "{\"id\":2,\"text\":\"c\",\"item\":\"i2\"}\n",
      "r.jsonl:2 (id 1): no \"item\" while 2 of 3 pairs have one");
  expect_error(
      "{\"id\":0,\"text\":\"a\",\"item\":\"i9\"}\n{\"id\":1,\"text\":\"b\",\"item\":\"i1\"}"
      "\n{\"id\":2,\"text\":\"c\",\"item\":\"i2\"}\n",
      "r.jsonl:1 (id 0): item \"i9\" is not an item of the dataset synthetic");
  expect_error("{\"id\":0,\"text\":\"a\",\"rating\":\"five\"}\n", "r.jsonl:1: \"rating\" must be");
  expect_error("{\"id\":0,\"text\":\"a\",\"item\":[1]}\n", "r.jsonl:1: \"item\" must be");
}

}  // namespace
