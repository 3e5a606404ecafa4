// The LibTorch parts of `seller eval` (see eval_lift.h): the --encoder embedders and --lift.
// Invariants: everything is computed before DIR/report.md and DIR/metrics.json are written
// (atomically), and every lift figure carries the similarity's name.
#include "launch/eval_lift.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "launch/cli_config.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"
#include "trainer/model/text_encoder/embedder.h"
#include "trainer/train/lift.h"
#include "trainer/train/sasrec_trainer.h"

namespace seller::launch {
namespace {

nlohmann::json ranking_json(const eval::RankingSummary& s) {
  return {{"n", s.count}, {"hr10", s.hr10}, {"ndcg10", s.ndcg10}, {"mrr", s.mrr}};
}

nlohmann::json curve_json(const std::vector<std::pair<double, double>>& curve) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [w, v] : curve) j.push_back({{"w", w}, {"valid_ndcg10", v}});
  return j;
}

std::string fmt(double v, int decimals = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

EncoderEmbedders load_encoder_embedders(const std::string& dir, bool with_tokens) {
  auto sentence = std::make_shared<model::SentenceEncoder>(model::SentenceEncoder::load(dir));
  EncoderEmbedders e;
  e.name = sentence->name();
  e.make_embedder = [sentence](const std::vector<std::string>&) {
    return model::make_sentence_embedder(sentence);
  };
  if (with_tokens) e.tokens = model::make_token_embedder(model::TokenEncoder::load(dir));
  return e;
}

int run_eval_lift(const LiftArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  SELLER_THROW_IF_NOT(a.bootstrap >= 1, ConfigError, "--bootstrap must be >= 1, got ", a.bootstrap);
  SELLER_THROW_IF_NOT(a.limit >= 0, ConfigError, "--limit must be >= 0, got ", a.limit);
  const std::filesystem::path run_dir = a.run_dir;
  SELLER_THROW_IF_NOT(std::filesystem::exists(run_dir / "config.yaml"), DataError, run_dir.string(),
                      " has no config.yaml: not a run folder written by seller train");
  auto cfg = core::load_config<core::Config>({run_dir / "config.yaml"}, {});
  SELLER_THROW_IF_NOT(cfg.task == "seller", ConfigError, run_dir.string(),
                      "/config.yaml: task = ", cfg.task, ", not a SELLER run");
  const auto ds = data::Dataset::open(cfg.train.data);
  const auto device = train::resolve_device(cfg.generate.device);
  auto run = train::load_seller_run(run_dir, cfg, ds, device, &std::cout);

  std::function<eval::TextEmbedder(const std::vector<std::string>&)> make_embedder =
      [](const std::vector<std::string>& fit) { return eval::make_tfidf_embedder(fit); };
  if (!a.encoder.empty()) make_embedder = load_encoder_embedders(a.encoder, false).make_embedder;
  train::LiftOptions o;
  o.k = a.k;
  o.limit = a.limit;
  o.seed = a.seed;
  const train::LiftResult r = train::run_lift(run, cfg, ds, make_embedder, o, device, &std::cout);

  eval::BootstrapOptions bo;
  bo.replicates = a.bootstrap;
  bo.seed = a.seed;
  const eval::UtilitySummary summary = eval::summarize_utility(r.block, bo);
  nlohmann::json j;
  j["run"] = run_dir.string();
  j["data"] = cfg.train.data;
  j["utility"] = eval::utility_json({summary}, {});
  j["lift"] = {{"embedder", r.embedder},
               {"k", r.k},
               {"weight", r.weight},
               {"weight_shuffled", r.weight_shuffled},
               {"grid", o.grid},
               {"valid_curve", curve_json(r.curve)},
               {"valid_curve_shuffled", curve_json(r.curve_shuffled)},
               {"valid_pairs", r.valid.real.size()},
               {"test_pairs", r.test.real.size()},
               {"topk_recall_valid", r.valid.topk_recall()},
               {"topk_recall_test", r.test.topk_recall()},
               {"sasrec_full_ranking_test", ranking_json(r.test.full.summary())},
               {"sasrec_full_ranking_valid", ranking_json(r.valid.full.summary())}};
  std::string md = "# seller eval --lift " + run_dir.string() + "\n";
  md += eval::utility_markdown({summary}, {}, bo.confidence);
  md += "\nWeight search on valid (" + r.embedder + "): ";
  for (const auto& [w, v] : r.curve) md += "w " + fmt(w, 2) + " → " + fmt(v) + "; ";
  md += "\n\nTop-" + std::to_string(r.k) + " recall (a target outside the top-k cannot be " +
        "recovered by reranking): valid " + fmt(r.valid.topk_recall()) + ", test " +
        fmt(r.test.topk_recall()) + ". Plain SASRec full ranking on the same test pairs: NDCG@10 " +
        fmt(r.test.full.summary().ndcg10) + ", HR@10 " + fmt(r.test.full.summary().hr10) + ".\n";
  const std::filesystem::path dir(a.out);
  std::filesystem::create_directories(dir);
  io::AtomicFile ex((dir / "lift_explanations.jsonl").string());
  for (size_t i = 0; i < r.test.real.size(); ++i) {
    nlohmann::json l = {{"id", r.test.example_ids[i]}, {"target", r.test.real[i].target}};
    l["candidates"] = r.test.real[i].candidates;
    l["sasrec"] = r.test.real[i].base;
    l["feature"] = r.test.real[i].feature;
    l["explanations"] = r.test.explanations[i];
    ex.write(l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  ex.commit();
  io::write_file_atomically(dir / "report.md", md);
  io::write_file_atomically(dir / "metrics.json", j.dump(2) + "\n");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << md << "\nwrote " << (dir / "metrics.json").string() << ", "
            << (dir / "report.md").string() << " and " << (dir / "lift_explanations.jsonl").string()
            << " in " << fmt(secs, 1) << " s\n";
  return kExitOk;
}

}  // namespace seller::launch
