// `seller train --config F [--set k=v]`: trains what `task` names. task = sasrec trains the
// SASRec next-item model on the prepared dataset train.data (trainer/train/sasrec_trainer.h),
// printing one line per validation and the final test HR@10 / NDCG@10 with the wall time, the
// shuffled-history control and a popularity baseline; metrics go to
// <run.output_dir>/<run.name>/metrics.jsonl. task = seller trains the SELLER model
// (trainer/train/seller_trainer.h) and leaves a run folder that `seller generate --run` reads.
#include <filesystem>
#include <iostream>
#include <memory>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/train/sasrec_trainer.h"
#include "trainer/train/seller_trainer.h"

namespace seller::launch {
namespace {

struct TrainArgs {
  ConfigOptions config;
};

int run_train(const TrainArgs& a) {
  core::Config cfg;
  std::string yaml;
  if (resolve_config(a.config, cfg, &yaml)) return kExitOk;
  SELLER_THROW_IF_NOT(!cfg.train.data.empty(), ConfigError,
                      "train.data must name a prepared dataset folder (seller data prepare "
                      "--output DIR), e.g. --set train.data=DIR");
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
  if (cfg.task == "seller") {
    const auto result = train::train_seller(cfg, yaml, ds, run_dir, &std::cout);
    // A stop signal saved a checkpoint: exit with the status Slurm's RequeueExit is told about.
    if (result.stopped_by_signal) return static_cast<int>(cfg.checkpoint.signal_exit_code);
    if (!result.main_rank) return kExitOk;  // rank 0 reports for the job
    std::cout << "run: " << run_dir.string() << " (seller generate --run " << run_dir.string()
              << " writes the test explanations)\n";
  } else {
    train::train_sasrec(ds, cfg.sasrec, cfg.train, run_dir, &std::cout);
  }
  std::cout << "metrics: " << (run_dir / "metrics.jsonl").string() << "\n";
  return kExitOk;
}

}  // namespace

void register_train_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = app.add_subcommand(
      "train",
      "train a model (task = seller: the SELLER model; sasrec: the SASRec next-item baseline)");
  add_config_options(*cmd, args->config);
  cmd->callback([&run, args] { run = [args] { return run_train(*args); }; });
}

}  // namespace seller::launch
