// `seller eval --pred P.jsonl --ref R.jsonl --out DIR [--bootstrap N] [--seed S] [--features]
//  [--allow-missing]` and `seller eval --compare A.jsonl B.jsonl --ref R.jsonl --out DIR`:
// text-quality metrics of explanations (eval/report), with bootstrap intervals, or two systems
// with a paired bootstrap test. Everything is computed before anything is written; DIR/metrics.json
// and DIR/report.md are written atomically, then the table is printed.
#include <iostream>
#include <memory>

#include "eval/report/eval_report.h"
#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"

namespace seller::launch {
namespace {

struct EvalArgs {
  std::string pred, ref, out;
  std::vector<std::string> compare;
  int64_t bootstrap = 1000;
  uint64_t seed = 0;
  bool features = false;
  bool allow_missing = false;
};

int run_eval(const EvalArgs& a) {
  SELLER_THROW_IF_NOT(a.compare.empty() != a.pred.empty(), ConfigError,
                      "seller eval: give either --pred P.jsonl or --compare A.jsonl B.jsonl");
  SELLER_THROW_IF_NOT(a.bootstrap >= 1, ConfigError, "--bootstrap must be >= 1, got ", a.bootstrap);
  eval::JoinOptions join;
  join.allow_missing = a.allow_missing;
  join.require_features = a.features;
  eval::BootstrapOptions boot;
  boot.replicates = a.bootstrap;
  boot.seed = a.seed;
  eval::ReportContext ctx;
  ctx.ref = a.ref;
  ctx.bootstrap = boot;

  std::string json, markdown;
  if (a.compare.empty()) {
    const eval::JoinedCorpus corpus = eval::load_joined(a.pred, a.ref, join);
    ctx.systems = {a.pred};
    ctx.n = static_cast<int64_t>(corpus.hyps.size());
    ctx.missing_predictions = corpus.missing_predictions;
    const eval::SystemReport report = eval::evaluate_system(corpus, boot);
    json = eval::report_json(report, ctx).dump(2) + "\n";
    markdown = eval::report_markdown(report, ctx);
  } else {
    const eval::JoinedCorpus ca = eval::load_joined(a.compare[0], a.ref, join);
    const eval::JoinedCorpus cb = eval::load_joined(a.compare[1], a.ref, join);
    ctx.systems = a.compare;
    ctx.n = static_cast<int64_t>(ca.hyps.size());
    ctx.missing_predictions = ca.missing_predictions;
    const auto rows = eval::compare_systems(ca, cb, boot);
    json = eval::comparison_json(rows, ctx).dump(2) + "\n";
    markdown = eval::comparison_markdown(rows, ctx);
  }
  const std::filesystem::path dir(a.out);
  std::filesystem::create_directories(dir);
  io::write_file_atomically(dir / "report.md", markdown);
  io::write_file_atomically(dir / "metrics.json", json);
  std::cout << markdown << "\nwrote " << (dir / "metrics.json").string() << " and "
            << (dir / "report.md").string() << "\n";
  if (ctx.missing_predictions > 0)
    std::cout << "warning: " << ctx.missing_predictions
              << " references have no prediction (--allow-missing)\n";
  return kExitOk;
}

}  // namespace

void register_eval_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* cmd = app.add_subcommand(
      "eval", "text-quality metrics of explanations (JSONL {\"id\", \"text\"} joined by id)");
  auto* pred = cmd->add_option("--pred", args->pred, "predictions JSONL");
  cmd->add_option("--compare", args->compare, "two prediction files A B: paired comparison")
      ->expected(2)
      ->excludes(pred);
  cmd->add_option("--ref", args->ref, "references JSONL")->required();
  cmd->add_option("--out", args->out, "output folder (metrics.json, report.md)")->required();
  cmd->add_option("--bootstrap", args->bootstrap, "bootstrap replicates (default 1000)");
  cmd->add_option("--seed", args->seed, "bootstrap seed (default 0)");
  cmd->add_flag("--features", args->features,
                "require \"feature\" on every reference (FMR/FCR/DIV; computed anyway when all "
                "references carry one)");
  cmd->add_flag("--allow-missing", args->allow_missing,
                "score only the references that have a prediction");
  cmd->callback([&run, args] { run = [args] { return run_eval(*args); }; });
}

}  // namespace seller::launch
