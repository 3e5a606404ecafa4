// `seller eval --pred P.jsonl --ref R.jsonl [--data DIR] --out DIR` and `seller eval --compare
// A.jsonl B.jsonl --ref R.jsonl [--data DIR] --out DIR`: text-quality metrics of explanations
// (eval/report) with bootstrap intervals, or two systems with a paired bootstrap test; with a
// prepared dataset also the utility blocks (eval/utility: identification, rating consistency,
// with their controls) and, when the references carry no "feature", FMR/FCR/DIV on an aspect
// lexicon mined from the training reviews (eval/text/aspect_lexicon.h). `--curves LOG` plots a
// training log. Invariants: everything is computed before anything is written; plots (gnuplot,
// when installed, or required by --plot) are rendered first, then DIR/report.md and
// DIR/metrics.json atomically, so an error leaves no metrics.json; the table is printed last.
#include <cmath>
#include <iostream>
#include <memory>

#include "eval/plot/report_plots.h"
#include "eval/report/eval_report.h"
#include "eval/text/aspect_lexicon.h"
#include "eval/utility/utility_eval.h"
#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/io/atomic_file.h"

namespace seller::launch {
namespace {

struct EvalArgs {
  std::string pred, ref, out, data, curves;
  std::vector<std::string> compare;
  int64_t bootstrap = 1000;
  uint64_t seed = 0;
  int64_t negatives = 99;
  int64_t threads = 0;
  int64_t lexicon_size = 100;
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

int run_eval(const EvalArgs& a) {
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
    j = eval::comparison_json(rows, ctx);
    j["feature_source"] = features;
    markdown = eval::comparison_markdown(rows, ctx);
    charts.emplace_back("text", eval::text_bar_chart(rows, "A", "B"));
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
