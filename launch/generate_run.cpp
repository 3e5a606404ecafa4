// seller generate --run (generate_run.h).
#include "launch/generate_run.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <iostream>

#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/io/atomic_file.h"
#include "trainer/train/sasrec_trainer.h"
#include "trainer/train/seller_explain.h"
#include "trainer/train/seller_run.h"

namespace seller::launch {
namespace {

nlohmann::json record(const data::ExplainExample& e, const data::Dataset& ds,
                      const std::string& text) {
  nlohmann::json j = {{"id", e.id},
                      {"text", text},
                      {"user", std::string(ds.user_id(e.user))},
                      {"item", std::string(ds.item_id(e.item))}};
  if (!std::isnan(e.rating)) j["rating"] = e.rating;
  if (!e.feature.empty()) j["feature"] = e.feature;
  return j;
}

void write_jsonl(const std::string& path, const std::vector<nlohmann::json>& lines) {
  io::AtomicFile out(path);
  for (const auto& j : lines)
    out.write(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  out.commit();
}

}  // namespace

int run_generate_for_run(const GenerateRunArgs& a, const core::Config& user_cfg,
                         bool user_set_generate) {
  const auto t0 = std::chrono::steady_clock::now();
  SELLER_THROW_IF_NOT(a.split == "test" || a.split == "valid", ConfigError,
                      "--split must be test or valid, got '", a.split, "'");
  const auto control = train::parse_history_control(a.history);
  // The run's config names its dataset; the model is rebuilt from it.
  const std::filesystem::path run_dir = a.run_dir;
  SELLER_THROW_IF_NOT(std::filesystem::exists(run_dir / "config.yaml"), DataError, run_dir.string(),
                      " has no config.yaml: not a run folder written by seller train");
  auto cfg = core::load_config<core::Config>({run_dir / "config.yaml"}, {});
  SELLER_THROW_IF_NOT(cfg.task == "seller", ConfigError, run_dir.string(), "/config.yaml: task = ",
                      cfg.task, ", not a SELLER run");
  const auto ds = data::Dataset::open(cfg.train.data);
  const auto device =
      train::resolve_device(user_set_generate ? user_cfg.generate.device : cfg.generate.device);
  auto run = train::load_seller_run(run_dir, cfg, ds, device, &std::cout);
  const auto& g = user_set_generate ? user_cfg.generate : cfg.generate;
  auto splits = data::build_explain_examples(ds, static_cast<size_t>(cfg.sasrec.max_len), 1,
                                             static_cast<uint64_t>(cfg.train.seed));
  auto& examples = a.split == "test" ? splits.test : splits.valid;
  if (a.limit > 0 && examples.size() > static_cast<size_t>(a.limit))
    examples.resize(static_cast<size_t>(a.limit));
  SELLER_THROW_IF_NOT(!examples.empty(), DataError, cfg.train.data, ": no ", a.split,
                      " pairs with a review");
  const auto tokens = train::tokenize_examples(examples, ds, *run.tokenizer, cfg.seller);
  train::ExplainOptions opt;
  opt.history = control;
  opt.history_seed = static_cast<uint64_t>(cfg.train.seed);
  opt.batch_size = g.batch_size;
  const auto texts = train::explain(run.model, *run.tokenizer, examples, tokens, g, opt);

  std::vector<nlohmann::json> preds, refs;
  for (size_t i = 0; i < examples.size(); ++i) {
    auto p = record(examples[i], ds, texts[i]);
    p["history"] = train::history_control_name(control);
    preds.push_back(std::move(p));
    refs.push_back(record(examples[i], ds, examples[i].explanation));
  }
  write_jsonl(a.output, preds);
  if (!a.refs.empty()) write_jsonl(a.refs, refs);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "explained " << examples.size() << " " << a.split << " pairs (history "
            << train::history_control_name(control) << ") on " << device.str() << " in " << secs
            << " s -> " << a.output << (a.refs.empty() ? "" : " (references -> " + a.refs + ")")
            << "\n";
  for (int64_t i = 0; i < a.samples && i < static_cast<int64_t>(examples.size()); ++i) {
    const auto& e = examples[static_cast<size_t>(i)];
    std::cout << "  [" << e.id << "] " << ds.item_title(e.item)
              << "\n    generated: " << texts[static_cast<size_t>(i)]
              << "\n    real:      " << e.explanation << "\n";
  }
  return kExitOk;
}

}  // namespace seller::launch
