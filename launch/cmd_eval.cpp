// `seller eval --pred P.jsonl --ref R.jsonl [--data DIR] --out DIR` and `seller eval --compare
// A.jsonl B.jsonl --ref R.jsonl [--data DIR] --out DIR`: text-quality metrics of explanations
// (eval/report) with bootstrap intervals, or two systems with a paired bootstrap test; with a
// prepared dataset also the utility blocks (eval/utility: identification, rating consistency,
// with their controls) and, when the references carry no "feature", FMR/FCR/DIV on an aspect
// lexicon mined from the training reviews (eval/text/aspect_lexicon.h). `--curves LOG` plots a
// training log. In LibTorch builds (launch/eval_lift.h): `--encoder DIR` (a sentence-transformers
// folder such as all-MiniLM-L6-v2) replaces tfidf in identification and adds the BERTScore-style
// embedding score (eval/utility/embedding_score.h), and `--lift RUN_DIR` measures the
// recommendation lift of a trained SELLER run; without LibTorch both are errors saying why.
// Invariants: everything is computed before anything is written; plots (gnuplot, when installed, or
// required by --plot) are rendered first, then DIR/report.md and DIR/metrics.json atomically, so an
// error leaves no metrics.json; the table is printed last.
#include <cmath>
#include <iostream>
#include <memory>

#include "eval/plot/report_plots.h"
#include "eval/report/eval_report.h"
#include "eval/text/aspect_lexicon.h"
#include "eval/utility/embedding_score.h"
#include "eval/utility/utility_eval.h"
#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/io/atomic_file.h"
#if SELLER_HAVE_TORCH
#include "launch/eval_lift.h"
#endif

namespace seller::launch {
namespace {

struct EvalArgs {
  std::string pred, ref, out, data, curves, encoder, lift;
  std::vector<std::string> compare;
  int64_t bootstrap = 1000;
  uint64_t seed = 0;
  int64_t negatives = 99;
  int64_t threads = 0;
  int64_t lexicon_size = 100;
  int64_t lift_k = 20;
  int64_t limit = 0;
  bool features = false;
  bool allow_missing = false;
  bool plot = false;
  bool no_plot = false;
};

// A prepared dataset as plain data for eval/utility: training reviews with their ratings, item
// texts (metadata + the item's training reviews, so no test review leaks in) and id maps.
eval::UtilityData load_utility_data(const std::string& dir) {
  auto ds = std::make_shared<data::Dataset>(data::Dataset::open(dir));
  eval::UtilityData u;
  u.source = dir;
  std::vector<std::string> item_reviews(ds->num_items());
  auto users = std::make_shared<std::unordered_map<std::string, uint32_t>>();
  for (uint32_t user = 0; user < ds->num_users(); ++user) {
    users->emplace(std::string(ds->user_id(user)), user);
    const auto items = ds->history(user);
    const auto ratings = ds->ratings(user);
    for (size_t k = 0; k < items.size(); ++k) {
      if (ds->split(user, k) != data::SplitTag::kTrain) continue;
      const std::string_view review = ds->review(user, k);
      if (review.empty()) continue;
      u.train_reviews.emplace_back(review);
      u.train_ratings.push_back(ratings[k]);
      item_reviews[items[k]].append(" ").append(review);
    }
  }
  u.item_texts.resize(ds->num_items());
  for (uint32_t i = 0; i < ds->num_items(); ++i) {
    u.item_index.emplace(std::string(ds->item_id(i)), i);
    u.item_texts[i] = std::string(ds->item_title(i)) + ". " + std::string(ds->item_category(i)) +
                      ". " + std::string(ds->item_description(i)) + item_reviews[i];
  }
  const auto items = std::make_shared<std::unordered_map<std::string, uint32_t>>(u.item_index);
  u.rating_of = [ds, users, items](const std::string& user,
                                   const std::string& item) -> std::optional<double> {
    const auto ut = users->find(user);
    const auto it = items->find(item);
    if (ut == users->end() || it == items->end()) return std::nullopt;
    const auto history = ds->history(ut->second);
    const auto ratings = ds->ratings(ut->second);
    for (size_t k = 0; k < history.size(); ++k)
      if (history[k] == it->second && std::isfinite(ratings[k])) return ratings[k];
    return std::nullopt;
  };
  return u;
}

// Fills FMR/FCR/DIV's ground truth from the mined lexicon when the references carry none.
nlohmann::json feature_source(std::vector<eval::JoinedCorpus*> corpora,
                              const eval::UtilityData* data, int64_t lexicon_size) {
  if (!corpora[0]->features.empty()) return {{"kind", "references"}};
  if (!data) return {{"kind", "none"}, {"why", "no \"feature\" on every reference and no --data"}};
  eval::AspectLexiconOptions o;
  o.max_words = static_cast<size_t>(lexicon_size);
  const eval::AspectLexicon lexicon = eval::mine_aspect_lexicon(data->train_reviews, o);
  if (lexicon.words.empty())
    return {{"kind", "none"},
            {"why", "the aspect lexicon mined from the training reviews is empty"}};
  for (eval::JoinedCorpus* c : corpora) c->features = eval::lexicon_features(c->refs, lexicon);
  std::vector<std::string> words;
  for (const auto& w : lexicon.words) words.push_back(w.word);
  return {{"kind", "lexicon"},
          {"method", "aspect lexicon mined from " + std::to_string(lexicon.reviews) +
                         " training reviews (df x ln lift of opinion co-occurrence; "
                         "docs/eval.md); a reference's features = lexicon words in it"},
          {"lexicon", words}};
}

constexpr const char* kNoTorch =
    " needs a LibTorch build of seller (this one was built with torch=off; see docs/gpu.md and "
    "scripts/setup.sh)";

int run_eval_lift_mode(const EvalArgs& a) {
  SELLER_THROW_IF_NOT(a.pred.empty() && a.compare.empty() && a.curves.empty(), ConfigError,
                      "seller eval --lift RUN_DIR is its own mode: drop --pred/--compare/--curves");
#if SELLER_HAVE_TORCH
  LiftArgs l;
  l.run_dir = a.lift;
  l.out = a.out;
  l.encoder = a.encoder;
  l.k = a.lift_k;
  l.limit = a.limit;
  l.bootstrap = a.bootstrap;
  l.seed = a.seed;
  return run_eval_lift(l);
#else
  throw ConfigError(detail::concat("seller eval --lift", kNoTorch));
#endif
}

int run_eval(const EvalArgs& a) {
  if (!a.lift.empty()) return run_eval_lift_mode(a);
  const bool scoring = !a.compare.empty() || !a.pred.empty();
  SELLER_THROW_IF_NOT(
      scoring || !a.curves.empty(), ConfigError,
      "seller eval: give --pred P.jsonl, --compare A.jsonl B.jsonl or --curves LOG");
  SELLER_THROW_IF_NOT(!scoring || !a.ref.empty(), ConfigError,
                      "seller eval: --ref R.jsonl is required with --pred/--compare");
  SELLER_THROW_IF_NOT(a.bootstrap >= 1, ConfigError, "--bootstrap must be >= 1, got ", a.bootstrap);
  SELLER_THROW_IF_NOT(a.negatives >= 0, ConfigError, "--negatives must be >= 0, got ", a.negatives);
  SELLER_THROW_IF_NOT(a.threads >= 0, ConfigError, "--threads must be >= 0, got ", a.threads);
  SELLER_THROW_IF_NOT(a.lexicon_size >= 1, ConfigError, "--lexicon-size must be >= 1");
  std::string why_no_plot;
  const bool have_gnuplot = !a.no_plot && eval::gnuplot_available(&why_no_plot);
  SELLER_THROW_IF_NOT(!a.plot || have_gnuplot, Error,
                      "--plot: gnuplot cannot be run: ", why_no_plot,
                      "; install gnuplot-nox (scripts/setup.sh does) or set SELLER_GNUPLOT");
  const std::filesystem::path dir(a.out);
  std::vector<std::filesystem::path> plots;
  if (!a.curves.empty()) {
    SELLER_THROW_IF_NOT(!a.no_plot, ConfigError, "--curves plots a training log: drop --no-plot");
    std::string why;
    SELLER_THROW_IF_NOT(eval::gnuplot_available(&why), Error,
                        "--curves: gnuplot cannot be run: ", why,
                        "; install gnuplot-nox (scripts/setup.sh does) or set SELLER_GNUPLOT");
    plots = eval::plot_training_curves(a.curves, dir);
    if (!scoring) {
      for (const auto& p : plots) std::cout << "wrote " << p.string() << "\n";
      return kExitOk;
    }
  }

  eval::JoinOptions join;
  join.allow_missing = a.allow_missing;
  join.require_features = a.features;
  eval::ReportContext ctx;
  ctx.ref = a.ref;
  ctx.bootstrap.replicates = a.bootstrap;
  ctx.bootstrap.seed = a.seed;
  std::optional<eval::UtilityData> data;
  if (!a.data.empty()) data = load_utility_data(a.data);
  eval::UtilityOptions uo;
#if SELLER_HAVE_TORCH
  std::optional<EncoderEmbedders> encoder;
  if (!a.encoder.empty()) {
    encoder = load_encoder_embedders(a.encoder);
    uo.make_embedder = encoder->make_embedder;
  }
#else
  SELLER_THROW_IF_NOT(a.encoder.empty(), ConfigError, "seller eval --encoder", kNoTorch);
#endif
  // The embedding score (needs --encoder); computed inside each branch, where the corpora live.
  std::unique_ptr<eval::UtilityBlock> embedding_block;
  const auto score_embeddings = [&](const std::vector<eval::EmbeddingSystem>& systems,
                                    const std::vector<std::string>& refs) {
#if SELLER_HAVE_TORCH
    if (encoder && refs.size() >= 2)
      embedding_block = std::make_unique<eval::UtilityBlock>(
          eval::embedding_score_block(encoder->tokens, systems, refs, a.seed));
#else
    (void)systems;
    (void)refs;
#endif
  };
  uo.bootstrap = ctx.bootstrap;
  uo.shuffle_seed = a.seed;
  uo.identification.negatives = a.negatives;
  uo.identification.seed = a.seed;
  uo.identification.threads = static_cast<size_t>(a.threads);

  nlohmann::json j;
  std::string markdown;
  std::vector<std::pair<std::string, eval::BarChart>> charts;
  eval::UtilityRun utility;
  if (a.compare.empty()) {
    eval::JoinedCorpus corpus = eval::load_joined(a.pred, a.ref, join);
    ctx.systems = {a.pred};
    ctx.n = static_cast<int64_t>(corpus.hyps.size());
    ctx.missing_predictions = corpus.missing_predictions;
    const nlohmann::json features =
        feature_source({&corpus}, data ? &*data : nullptr, a.lexicon_size);
    const eval::SystemReport report = eval::evaluate_system(corpus, ctx.bootstrap);
    utility =
        eval::run_utility(corpus.ids, corpus.refs, a.ref, {{"prediction", &corpus.hyps, a.pred}},
                          data ? &*data : nullptr, uo);
    score_embeddings({{"prediction", &corpus.hyps}}, corpus.refs);
    j = eval::report_json(report, ctx);
    j["feature_source"] = features;
    markdown = eval::report_markdown(report, ctx);
    charts.emplace_back("text", eval::text_bar_chart(report, "prediction"));
  } else {
    eval::JoinedCorpus ca = eval::load_joined(a.compare[0], a.ref, join);
    eval::JoinedCorpus cb = eval::load_joined(a.compare[1], a.ref, join);
    ctx.systems = a.compare;
    ctx.n = static_cast<int64_t>(ca.hyps.size());
    ctx.missing_predictions = ca.missing_predictions;
    const nlohmann::json features =
        feature_source({&ca, &cb}, data ? &*data : nullptr, a.lexicon_size);
    const auto rows = eval::compare_systems(ca, cb, ctx.bootstrap);
    utility = eval::run_utility(ca.ids, ca.refs, a.ref,
                                {{"A", &ca.hyps, a.compare[0]}, {"B", &cb.hyps, a.compare[1]}},
                                data ? &*data : nullptr, uo);
    score_embeddings({{"A", &ca.hyps}, {"B", &cb.hyps}}, ca.refs);
    j = eval::comparison_json(rows, ctx);
    j["feature_source"] = features;
    markdown = eval::comparison_markdown(rows, ctx);
    charts.emplace_back("text", eval::text_bar_chart(rows, "A", "B"));
  }
  if (embedding_block) {
    const eval::UtilitySummary es = eval::summarize_utility(*embedding_block, ctx.bootstrap);
    j["embedding_score"] = eval::utility_json({es}, {})["embedding_score"];
    markdown += eval::utility_markdown({es}, {}, ctx.bootstrap.confidence,
                                       "Embedding similarity (" + embedding_block->encoder + ")");
  } else {
    j["embedding_score"] = {
        {"skipped", a.encoder.empty() ? "needs --encoder DIR (a sentence-transformers folder, "
                                        "e.g. all-MiniLM-L6-v2)"
                                      : "needs at least 2 pairs (the shuffled control)"}};
  }
  j["utility"] = eval::utility_json(utility.summaries, utility.skipped);
  markdown += eval::utility_markdown(utility.summaries, utility.skipped, ctx.bootstrap.confidence);
  for (const auto& s : utility.summaries)
    for (auto& c : eval::utility_bar_charts(s)) charts.push_back(std::move(c));

  std::filesystem::create_directories(dir);
  if (have_gnuplot) {
    for (const auto& p : eval::write_report_plots(dir, charts)) plots.push_back(p);
  } else {
    j["plots_skipped"] = a.no_plot ? "--no-plot" : why_no_plot;
  }
  nlohmann::json plot_names = nlohmann::json::array();
  for (const auto& p : plots) plot_names.push_back(p.filename().string());
  j["plots"] = plot_names;
  io::write_file_atomically(dir / "report.md", markdown);
  io::write_file_atomically(dir / "metrics.json", j.dump(2) + "\n");
  std::cout << markdown << "\nwrote " << (dir / "metrics.json").string() << " and "
            << (dir / "report.md").string();
  if (!plots.empty()) std::cout << " and " << plots.size() << " plot(s)";
  std::cout << "\n";
  if (!have_gnuplot && !a.no_plot)
    std::cout << "note: no plots (" << why_no_plot
              << "); install gnuplot-nox (scripts/setup.sh does) or set SELLER_GNUPLOT\n";
  if (ctx.missing_predictions > 0)
    std::cout << "warning: " << ctx.missing_predictions
              << " references have no prediction (--allow-missing)\n";
  return kExitOk;
}

}  // namespace

void register_eval_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "text-quality and utility metrics of explanations (JSONL {\"id\", \"text\"} joined "
      "by id), plots, training curves");
  auto* pred = cmd->add_option("--pred", args->pred, "predictions JSONL");
  cmd->add_option("--compare", args->compare, "two prediction files A B: paired comparison")
      ->expected(2)
      ->excludes(pred);
  cmd->add_option("--ref", args->ref, "references JSONL (required with --pred/--compare)");
  cmd->add_option("--out", args->out, "output folder (metrics.json, report.md, plots)")->required();
  cmd->add_option("--data", args->data,
                  "prepared dataset: utility metrics (identification, rating consistency) and "
                  "the mined aspect lexicon for FMR/FCR/DIV");
  cmd->add_option("--bootstrap", args->bootstrap, "bootstrap replicates (default 1000)");
  cmd->add_option("--seed", args->seed,
                  "seed of the bootstrap, negative sampling and shuffled control (default 0)");
  cmd->add_option("--negatives", args->negatives,
                  "identification: sampled negatives per pair, 0 = rank against all items "
                  "(default 99)");
  cmd->add_option("--threads", args->threads, "threads for the utility metrics (0 = all cores)");
  cmd->add_option("--lexicon-size", args->lexicon_size, "mined aspect words (default 100)");
  cmd->add_option("--curves", args->curves, "training log metrics.jsonl: plot every field");
  cmd->add_option("--encoder", args->encoder,
                  "sentence-transformers folder (e.g. all-MiniLM-L6-v2; LibTorch builds): "
                  "identification by its cosine instead of tfidf, and the embedding score");
  cmd->add_option("--lift", args->lift,
                  "trained SELLER run folder: recommendation lift of its explanations "
                  "(LibTorch builds; docs/eval.md)");
  cmd->add_option("--lift-k", args->lift_k, "--lift: SASRec candidates reranked (default 20)");
  cmd->add_option("--limit", args->limit, "--lift: only the first N valid and N test pairs");
  cmd->add_flag("--features", args->features,
                "require \"feature\" on every reference (FMR/FCR/DIV; computed anyway when all "
                "references carry one)");
  cmd->add_flag("--allow-missing", args->allow_missing,
                "score only the references that have a prediction");
  cmd->add_flag("--plot", args->plot, "require the PNG plots (error when gnuplot is missing)");
  cmd->add_flag("--no-plot", args->no_plot, "write no plots");
  cmd->callback([&run, args] { run = [args] { return run_eval(*args); }; });
}

}  // namespace seller::launch
