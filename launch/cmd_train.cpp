// `seller train --config F [--set k=v]`: trains what `task` names. task = sasrec trains the
// SASRec next-item model on the prepared dataset train.data (trainer/train/sasrec_trainer.h),
// printing one line per validation and the final test HR@10 / NDCG@10 with the wall time, the
// shuffled-history control and a popularity baseline; metrics go to
// <run.output_dir>/<run.name>/metrics.jsonl. task = seller is not implemented yet (exit 2).
#include <filesystem>
#include <iostream>
#include <memory>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/train/sasrec_trainer.h"

namespace seller::launch {
namespace {

struct TrainArgs {
  ConfigOptions config;
};

int run_train(const TrainArgs& a) {
  core::Config cfg;
  if (resolve_config(a.config, cfg)) return kExitOk;
  if (cfg.task != "sasrec") {
    std::cerr << "seller train: task = " << cfg.task
              << " is not implemented yet (tracked by the SELLER model (#4) issue); "
                 "task = sasrec trains the behaviour-path baseline\n";
    return kExitNotImplemented;
  }
  const std::filesystem::path data = cfg.train.data;
  SELLER_THROW_IF_NOT(std::filesystem::exists(data), ConfigError, "train.data = '", data.string(),
                      "' does not exist");
  SELLER_THROW_IF_NOT(std::filesystem::is_directory(data), ConfigError, "train.data = '",
                      data.string(),
                      "' is a file, not a prepared dataset folder; prepare it first: seller data "
                      "prepare --format s3rec --input ",
                      data.string(), " --output DIR");
  const auto ds = data::Dataset::open(data);
  const auto run_dir = std::filesystem::path(cfg.run.output_dir) / cfg.run.name;
  const auto r = train::train_sasrec(ds, cfg.sasrec, cfg.train, run_dir, &std::cout);
  std::cout << "metrics: " << (run_dir / "metrics.jsonl").string() << "\n";
  (void)r;
  return kExitOk;
}

}  // namespace

void register_train_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train", "train a model (task = sasrec: the SASRec next-item baseline; seller: pending)");
  add_config_options(*cmd, args->config);
  cmd->callback([&run, args] { run = [args] { return run_train(*args); }; });
}

}  // namespace seller::launch
