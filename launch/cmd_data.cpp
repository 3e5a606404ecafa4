// `seller data ...`: generate the synthetic dataset, prepare any supported input into shards,
// and print a prepared dataset's statistics. The command line of `data prepare` is a stable
// interface (other tools call it):
//   seller data prepare --format {amazon|amazon2023|xrec|s3rec|synthetic} --input PATH
//                       --output DIR [--config F] [--set k=v]
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>

#include "launch/cli_config.h"
#include "launch/commands.h"
#include "launch/data_stats.h"
#include "trainer/core/error.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/data/readers/reader.h"
#include "trainer/data/synthetic/synthetic.h"

namespace seller::launch {
namespace {

data::SyntheticOptions synthetic_options(const core::SyntheticConfig& c) {
  data::SyntheticOptions o;
  o.users = static_cast<uint64_t>(c.users);
  o.items = static_cast<uint64_t>(c.items);
  o.aspects = static_cast<uint32_t>(c.aspects);
  o.mean_history = static_cast<uint32_t>(c.mean_history);
  o.min_history = static_cast<uint32_t>(c.min_history);
  o.drift = c.drift;
  o.sharpness = c.sharpness;
  o.explore = c.explore;
  o.seed = static_cast<uint64_t>(c.seed);
  return o;
}

data::PrepareOptions prepare_options(const core::DataConfig& c, const std::string& format,
                                     const std::string& input) {
  data::PrepareOptions o;
  o.dedup = c.dedup;
  o.split = c.split == "temporal" ? data::PrepareOptions::Split::kTemporal
                                  : data::PrepareOptions::Split::kLeaveOneOut;
  o.valid_fraction = c.valid_fraction;
  o.test_fraction = c.test_fraction;
  o.min_user_interactions = static_cast<uint32_t>(c.min_user_interactions);
  o.sort_memory_bytes = static_cast<uint64_t>(c.sort_memory_mb) << 20;
  o.shard_bytes = static_cast<uint64_t>(c.shard_mb) << 20;
  o.source_format = format;
  o.source_files = {input};
  return o;
}

struct GenerateArgs {
  ConfigOptions config;
  std::string output;
};

int run_generate(const GenerateArgs& a) {
  core::Config cfg;
  if (resolve_config(a.config, cfg)) return kExitOk;
  auto t0 = std::chrono::steady_clock::now();
  auto stats = data::write_synthetic_jsonl(synthetic_options(cfg.synthetic), a.output);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "synthetic dataset written to " << a.output << ": " << stats.users << " users, "
            << stats.items << " items, " << stats.interactions << " interactions ("
            << std::fixed << std::setprecision(2) << secs << " s)\n";
  return kExitOk;
}

struct PrepareArgs {
  ConfigOptions config;
  std::string format, input, output;
};

int run_prepare(const PrepareArgs& a) {
  core::Config cfg;
  if (resolve_config(a.config, cfg)) return kExitOk;
  const data::InputFormat format = data::parse_input_format(a.format);
  data::ReadOptions read_options;
  read_options.skip_malformed = cfg.data.on_error == "skip";
  data::ReadStats read_stats;
  auto source = [&](const data::RecordSink& sink) {
    read_stats = data::read_records(format, a.input, read_options, sink);
  };
  auto stats = data::prepare_dataset(source, prepare_options(cfg.data, a.format, a.input),
                                     a.output);
  const double mb = static_cast<double>(read_stats.bytes) / 1e6;
  std::cout << "prepared " << a.input << " (" << a.format << ") into " << a.output << "\n"
            << "  input: " << read_stats.records << " records from " << read_stats.lines
            << " lines, " << std::fixed << std::setprecision(1) << mb << " MB in "
            << std::setprecision(2) << stats.seconds << " s ("
            << std::setprecision(1) << (stats.seconds > 0 ? mb / stats.seconds : 0.0)
            << " MB/s)\n";
  if (read_options.skip_malformed) {
    std::cout << "  skipped malformed lines: " << read_stats.skipped << "\n";
    for (const auto& ex : read_stats.skipped_examples) std::cout << "    " << ex << "\n";
  }
  std::cout << "  removed duplicates: " << stats.duplicates_removed
            << ", dropped users (< " << cfg.data.min_user_interactions
            << " interactions): " << stats.users_dropped << "\n"
            << "  after cleaning: users " << stats.users << ", items " << stats.items
            << ", interactions " << stats.interactions << "\n";
  return kExitOk;
}

struct StatsArgs {
  std::string dir;
  bool verify = true;
};

}  // namespace

void register_data_commands(CLI::App& app, Runner& run) {
  CLI::App* data_cmd = app.add_subcommand("data", "generate, prepare and inspect datasets");
  data_cmd->require_subcommand(1);

  auto gen = std::make_shared<GenerateArgs>();
  CLI::App* g = data_cmd->add_subcommand(
      "generate", "write the built-in synthetic dataset (normalised JSONL, .gz for gzip)");
  g->add_option("--output", gen->output, "output file (.jsonl or .jsonl.gz)")->required();
  add_config_options(*g, gen->config);
  g->callback([&run, gen] { run = [gen] { return run_generate(*gen); }; });

  auto prep = std::make_shared<PrepareArgs>();
  CLI::App* p = data_cmd->add_subcommand(
      "prepare", "clean, de-duplicate, split and shard a dataset (memory-mapped output)");
  p->add_option("--format", prep->format, "amazon | amazon2023 | xrec | s3rec | synthetic")
      ->required();
  p->add_option("--input", prep->input, "input file or folder")->required();
  p->add_option("--output", prep->output, "output folder (replaced atomically)")->required();
  add_config_options(*p, prep->config);
  p->callback([&run, prep] { run = [prep] { return run_prepare(*prep); }; });

  auto st = std::make_shared<StatsArgs>();
  CLI::App* s = data_cmd->add_subcommand("stats", "print the statistics of a prepared dataset");
  s->add_option("dir", st->dir, "prepared dataset folder")->required();
  s->add_flag("!--no-verify", st->verify, "skip checksum verification");
  s->callback([&run, st] { run = [st] { return print_dataset_stats(st->dir, st->verify); }; });
}

}  // namespace seller::launch
