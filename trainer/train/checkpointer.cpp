// Saving and resuming the SELLER loop; stop signals (checkpointer.h).
#include "trainer/train/checkpointer.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <iostream>

#include "checkpoints/verify.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"

namespace seller::train {
namespace fs = std::filesystem;
namespace {

std::atomic<int> g_stop_signal{0};
struct sigaction g_old_term, g_old_usr1;

extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

nlohmann::json moe_json(const model::MoeStats& s) {
  return {{"tokens_per_expert", s.tokens_per_expert},
          {"assignments", s.assignments},
          {"dropped", s.dropped}};
}

model::MoeStats moe_from(const nlohmann::json& j) {
  model::MoeStats s;
  s.tokens_per_expert = j.value("tokens_per_expert", std::vector<int64_t>{});
  s.assignments = j.value("assignments", int64_t{0});
  s.dropped = j.value("dropped", int64_t{0});
  return s;
}

}  // namespace

NamedTensors named_parameters(model::SellerModel& model) {
  NamedTensors out;
  for (const auto& p : model->named_parameters(true)) out.emplace_back(p.key(), p.value());
  return out;
}

nlohmann::json LoopState::to_json() const {
  return {{"step", step},
          {"epoch", epoch},
          {"next_micro", next_micro},
          {"micro_rows", micro_rows},
          {"consumed_samples", consumed_samples},
          {"total_steps", total_steps},
          {"done", done},
          // infinity is not JSON: no validation yet is written as null
          {"best_loss", std::isfinite(best_loss) ? nlohmann::json(best_loss) : nlohmann::json()},
          {"best_epoch", best_epoch},
          {"since_best", since_best},
          {"epochs_run", epochs_run},
          {"best_valid", best_valid},
          {"first_window", first_window},
          {"first_loss", first_loss},
          {"last_loss", last_loss},
          {"window", window},
          {"moe_total", moe_json(moe_total)},
          {"lr", lr}};
}

LoopState LoopState::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    LoopState s;
    s.step = j.at("step");
    s.epoch = j.at("epoch");
    s.next_micro = j.at("next_micro");
    s.micro_rows = j.value("micro_rows", int64_t{0});
    s.consumed_samples = j.at("consumed_samples");
    s.total_steps = j.at("total_steps");
    s.done = j.at("done");
    if (!j.at("best_loss").is_null()) s.best_loss = j.at("best_loss");
    s.best_epoch = j.at("best_epoch");
    s.since_best = j.at("since_best");
    s.epochs_run = j.at("epochs_run");
    s.best_valid = j.at("best_valid");
    s.first_window = j.at("first_window");
    s.first_loss = j.at("first_loss");
    s.last_loss = j.at("last_loss");
    s.window = j.at("window");
    s.moe_total = moe_from(j.at("moe_total"));
    s.lr = j.at("lr");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(detail::concat(source, ": train_state.loop is incomplete: ", e.what()));
  }
}

std::string resume_identity_yaml(const core::Config& cfg, int64_t ranks) {
  core::Config id = cfg;
  // The ranks of a tensor-parallel group share their rows: the data shards are ranks / tp.
  const int64_t shards = ranks / std::max<int64_t>(1, cfg.train.tensor_parallel);
  id.train.batch_size = cfg.train.batch_size * cfg.train.grad_accum * std::max<int64_t>(1, shards);
  id.train.grad_accum = 1;
  id.train.device = core::TrainConfig{}.device;
  id.train.dist_backend = core::TrainConfig{}.dist_backend;
  id.train.expert_parallel = core::TrainConfig{}.expert_parallel;
  id.train.tensor_parallel = core::TrainConfig{}.tensor_parallel;
  id.train.log_every = core::TrainConfig{}.log_every;
  // Neither changes the arithmetic: a run may resume with or without them.
  id.train.zero_stage = core::TrainConfig{}.zero_stage;
  id.train.profile_steps = core::TrainConfig{}.profile_steps;
  id.train.profile_from = core::TrainConfig{}.profile_from;
  id.run = core::RunConfig{};
  id.checkpoint = core::CheckpointConfig{};
  return core::ConfigLoader(id).dump();
}

void continue_with_micro_rows(LoopState& loop, int64_t micro_rows, const fs::path& from) {
  if (loop.micro_rows == 0 || loop.micro_rows == micro_rows) {
    loop.micro_rows = micro_rows;
    return;
  }
  const int64_t rows_done = loop.next_micro * loop.micro_rows;
  SELLER_THROW_IF_NOT(rows_done % micro_rows == 0, ConfigError, from.string(), ": stopped after ",
                      rows_done, " examples of epoch ", loop.epoch, " in micro-batches of ",
                      loop.micro_rows, " rows; this run's micro-batches of ", micro_rows,
                      " rows (train.batch_size x data shards) cannot continue from that position");
  loop.next_micro = rows_done / micro_rows;
  loop.micro_rows = micro_rows;
}

StopSignals::StopSignals() {
  g_stop_signal.store(0);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, &g_old_term);
  sigaction(SIGUSR1, &sa, &g_old_usr1);
}

StopSignals::~StopSignals() {
  sigaction(SIGTERM, &g_old_term, nullptr);
  sigaction(SIGUSR1, &g_old_usr1, nullptr);
}

int StopSignals::pending() { return g_stop_signal.load(); }

SellerCheckpointer::SellerCheckpointer(const core::Config& cfg, std::string config_yaml,
                                       const fs::path& run_dir, std::ostream* progress,
                                       const TrainDist* dist, ckpt::Layout layout, ShardPlan plan)
    : c_(cfg.checkpoint),
      config_yaml_(std::move(config_yaml)),
      run_dir_(run_dir),
      progress_(progress),
      seeds_({{"seed", cfg.seed}, {"train_seed", cfg.train.seed}}),
      dist_(dist && dist->enabled() ? dist : nullptr),
      plan_(std::move(plan)) {
  identity_yaml_ = resume_identity_yaml(cfg, dist_ ? dist_->size() : 1);
  if (run_dir.empty()) return;
  ckpt::StoreOptions o;
  o.keep = c_.keep;
  if (dist_) {
    rank_ = dist_->rank();
    world_ = dist_->size();
    o.rank = rank_;
    o.layout = layout;
    if (o.layout.world() != world_) o.layout = ckpt::Layout{world_, 1, 1};
    // Replicated tensors are written once, by rank 0 (unless the plan says otherwise).
    if (!plan_.writes) plan_.writes = [rank = rank_](const std::string&) { return rank == 0; };
    o.hooks = dist_->commit_hooks();
    if (c_.async && progress_)
      *progress_ << "checkpoint.async: saves are synchronous with data parallel (the commit "
                    "protocol's collectives share the training communicator)\n";
  }
  store_ = std::make_unique<ckpt::CheckpointStore>(run_dir / "checkpoints", o);
}

SellerCheckpointer::~SellerCheckpointer() = default;

std::optional<fs::path> SellerCheckpointer::resume_dir() const {
  if (!store_) return std::nullopt;
  if (!dist_) return find_resume_dir();
  // Rank 0 decides (one verification pass, one set of warnings) and tells the others; an error
  // there travels too, so that every rank stops with the same message instead of hanging.
  std::string answer;
  if (dist_->is_main()) {
    try {
      const auto dir = find_resume_dir();
      answer = dir ? "dir:" + dir->string() : "none:";
    } catch (const std::exception& e) {
      answer = std::string("error:") + e.what();
    }
  }
  answer = dist_->commit_hooks().broadcast(answer);
  if (answer.rfind("error:", 0) == 0) throw ConfigError(answer.substr(6));
  if (answer.rfind("dir:", 0) == 0) return fs::path(answer.substr(4));
  return std::nullopt;
}

std::optional<fs::path> SellerCheckpointer::find_resume_dir() const {
  if (c_.resume != "auto") {
    // This run's saves would mix with an earlier run's in the same folder, and retention (by
    // step) could delete the new ones: refuse rather than delete anything committed.
    const auto existing = store_->committed();
    SELLER_THROW_IF_NOT(existing.empty(), ConfigError, "checkpoint.resume = ", c_.resume, ": ",
                        store_->root().string(), " holds checkpoints of an earlier run (newest ",
                        existing.empty() ? "" : existing.back().dir.filename().string(),
                        "); use another run.name, or move that folder away");
  }
  if (c_.resume == "never") return std::nullopt;
  if (c_.resume != "auto") {
    const fs::path dir = c_.resume;
    const auto report = ckpt::verify_checkpoint(dir, c_.verify_on_resume);
    SELLER_THROW_IF_NOT(report.ok(), FormatError, "checkpoint.resume = ", dir.string(),
                        " cannot be resumed: ", ckpt::summarize(report));
    return dir;
  }
  const auto found =
      store_->find_resumable(progress_ ? progress_ : &std::cerr, c_.verify_on_resume);
  if (!found) return std::nullopt;
  return found->dir;
}

void SellerCheckpointer::restore(const fs::path& dir, model::SellerModel& model,
                                 torch::optim::AdamW& opt, std::vector<torch::Tensor>& best_state,
                                 LoopState& loop) {
  CheckpointSource src(dir);
  const auto manifest_path = (dir / ckpt::kManifestName).string();
  const auto& m = src.manifest();
  const auto hash = ckpt::config_hash(identity_yaml_);
  SELLER_THROW_IF_NOT(m.config_hash == hash, ConfigError, manifest_path,
                      ": written with another config (hash ", m.config_hash, ", this run ", hash,
                      "); resume with the same config (device, ranks, checkpoint.* and the split "
                      "of the global batch batch_size x grad_accum x ranks may change), or set "
                      "checkpoint.resume=never to start afresh (or run.name to use another run "
                      "folder)");
  const auto params = named_parameters(model);
  src.load_into("model/", params, plan_);
  // ZeRO-1: a rank restores the state of the parameters it owns only.
  src.load_optimizer(opt, sharding_ ? sharding_->owned() : params, plan_);
  best_state.clear();
  bool has_best = false;
  for (const auto& t : m.tensors) has_best = has_best || t.name.rfind("best/", 0) == 0;
  if (has_best) {
    NamedTensors best;
    for (const auto& [n, p] : params) best.emplace_back(n, torch::empty_like(p, torch::kCPU));
    src.load_into("best/", best, plan_);
    for (auto& [n, t] : best) best_state.push_back(t);
  }
  src.load_rng(rank_, world_, progress_);
  SELLER_THROW_IF_NOT(m.train_state.contains("loop"), FormatError, manifest_path,
                      ": train_state has no loop state");
  loop = LoopState::from_json(m.train_state.at("loop"), manifest_path);
}

bool SellerCheckpointer::due(int64_t step, int64_t total_steps) const {
  if (!store_ || c_.every_steps <= 0 || step % c_.every_steps != 0) return false;
  return !(step == total_steps && c_.save_at_end);  // the final save covers the last step
}

void SellerCheckpointer::save(const LoopState& loop, model::SellerModel& model,
                              torch::optim::AdamW& opt,
                              const std::vector<torch::Tensor>& best_state, bool sync) {
  if (!store_) return;
  const auto t0 = std::chrono::steady_clock::now();
  auto req = std::make_shared<ckpt::SaveRequest>();
  req->step = loop.step;
  req->config_yaml = config_yaml_;
  req->hash_yaml = identity_yaml_;
  req->train_state["loop"] = loop.to_json();
  req->train_state["seeds"] = seeds_;
  Snapshot snap;
  const auto params = named_parameters(model);
  // Data parallel: replicas are written once (rank 0), expert shards by their owners (plan_).
  snap.add_all("model/", params, plan_);
  if (sharding_) {
    // ZeRO-1: each moment is written by its owner; the step counts are gathered from them.
    ShardPlan owners = plan_;
    owners.writes = [s = sharding_](const std::string& n) { return s->owns(n); };
    snap.add_optimizer(opt, params, req->train_state, owners);
    req->train_state["optimizer_steps"] = sharding_->all_steps(opt);
  } else {
    snap.add_optimizer(opt, params, req->train_state, plan_);
  }
  if (!best_state.empty()) {
    SELLER_CHECK(best_state.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& n = params[i].first;
      if (plan_.write(n)) snap.add("best/" + n, best_state[i], plan_.of(n));
    }
  }
  snap.add_rng(rank_, world_, req->train_state);
  req->chunks = snap.finish();
  const auto bytes = snap.bytes();
  auto* out = progress_;
  auto job = [store = store_.get(), req, out, bytes] {
    const auto t = std::chrono::steady_clock::now();
    const auto dir = store->save(*req);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    if (out) {
      char line[512];
      std::snprintf(line, sizeof line,
                    "checkpoint committed: step %lld -> %s (%.1f MB in %.2f s)\n",
                    static_cast<long long>(req->step), dir.string().c_str(), bytes / 1e6, s);
      *out << line << std::flush;
    }
  };
  if (c_.async && !sync && !dist_) {
    saver_.submit(std::move(job));
  } else {
    saver_.wait();
    job();
  }
  last_pause_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void SellerCheckpointer::check() { saver_.check(); }
void SellerCheckpointer::finish() { saver_.wait(); }

}  // namespace seller::train
