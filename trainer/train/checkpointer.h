// Checkpointing of the SELLER training loop: when to save, what the loop's state is, where to
// resume from, and the stop signals. Glue between seller_trainer.cpp, the tensor snapshots of
// train_state.h and the torch-free commit protocol of checkpoints/store.h.
//
// Resume rule (checkpoint.resume): auto = the newest checkpoint under <run_dir>/checkpoints that
// is committed and passes its checksums (each one skipped is reported with the file), none =
// start fresh; never = start fresh; a folder = exactly that checkpoint (an error if it is bad).
// A checkpoint whose config hash differs from this run's config, or whose tensors do not match
// the model, is an error naming its manifest: resuming it would silently train another model.
// The hash covers resume_identity_yaml(): the config without what may change between a run and
// its resumption (train.device, train.dist_backend, train.expert_parallel,
// train.tensor_parallel, train.log_every, run.*, checkpoint.*), and with train.batch_size x
// train.grad_accum x data shards (ranks / tensor_parallel) in place of the batch keys (the
// global batch), so a run saved by 2 ranks resumes on 1 process with grad_accum doubled, on 4
// ranks, or with another tensor-parallel size.
//
// Stop signals: SIGTERM and SIGUSR1 (what Slurm sends before a time limit or preemption) only set
// a flag; the loop finishes its optimizer step, saves synchronously and returns with
// stopped_by_signal set, and `seller train` exits with checkpoint.signal_exit_code (143).
#pragma once

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "checkpoints/async_saver.h"
#include "checkpoints/store.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/optimizer_sharding.h"
#include "trainer/train/train_dist.h"
#include "trainer/train/train_state.h"

namespace seller::train {

// Everything of the loop that a resumed run must continue from (tensors aside).
struct LoopState {
  int64_t step = 0;              // optimizer steps done
  int64_t epoch = 1;             // data cursor: the epoch (1-based) ...
  int64_t next_micro = 0;        // ... and the next micro-batch of its order
  int64_t micro_rows = 0;        // rows of a global micro-batch (batch_size x ranks); 0: unknown
  int64_t consumed_samples = 0;  // training examples seen
  int64_t total_steps = 0;
  bool done = false;  // the loop has ended (final checkpoint): resume goes to the test evaluation
  double best_loss = std::numeric_limits<double>::infinity();
  int64_t best_epoch = 0, since_best = 0, epochs_run = 0;
  nlohmann::json best_valid = nlohmann::json::object();
  bool first_window = true;
  double first_loss = 0, last_loss = 0;
  nlohmann::json window = nlohmann::json::object();  // running sums since the last log line
  model::MoeStats moe_total;                         // router statistics since step 0
  double lr = 0;                                     // rate of the last step (schedule position)

  nlohmann::json to_json() const;
  static LoopState from_json(const nlohmann::json& j, const std::string& source);
};

// The config text the checkpoint hash covers (see the header comment).
std::string resume_identity_yaml(const core::Config& cfg, int64_t ranks);

// A checkpoint written with another number of data-parallel ranks counts its cursor in global
// micro-batches of another size: re-express it in `micro_rows`-row micro-batches (the same
// global sample), or throw ConfigError naming `from` when the position falls inside one.
void continue_with_micro_rows(LoopState& loop, int64_t micro_rows,
                              const std::filesystem::path& from);

// Installs SIGTERM/SIGUSR1 handlers for its lifetime (restoring the previous ones).
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  static int pending();  // the signal received, or 0
};

class SellerCheckpointer {
 public:
  // run_dir empty: checkpointing is off (every call is a no-op). With data parallel (`dist`
  // enabled) every call is collective: rank 0 writes the replicated weights and optimizer state,
  // every rank its random-generator states, and saves are synchronous (the commit protocol's
  // collectives must not interleave with the training step's on the same communicator).
  // `layout` and `plan` describe expert-parallel shards (train_state.h); by default every tensor
  // is whole and rank 0 writes it.
  SellerCheckpointer(const core::Config& cfg, std::string config_yaml,
                     const std::filesystem::path& run_dir, std::ostream* progress,
                     const TrainDist* dist = nullptr, ckpt::Layout layout = {},
                     ShardPlan plan = {});
  ~SellerCheckpointer();

  bool enabled() const { return store_ != nullptr; }
  // The checkpoint to resume from per checkpoint.resume, or nullopt.
  std::optional<std::filesystem::path> resume_dir() const;
  // Restores model, optimizer, best weights, RNG and the loop state from `dir`.
  void restore(const std::filesystem::path& dir, model::SellerModel& model,
               torch::optim::AdamW& opt, std::vector<torch::Tensor>& best_state, LoopState& loop);
  // True when a periodic save is due after `step`.
  bool due(int64_t step, int64_t total_steps) const;
  // Snapshots and saves (in the background unless `sync` or checkpoint.async = false).
  void save(const LoopState& loop, model::SellerModel& model, torch::optim::AdamW& opt,
            const std::vector<torch::Tensor>& best_state, bool sync);
  void check();   // rethrows a failed background save
  void finish();  // waits for the save in flight
  double last_pause_seconds() const { return last_pause_; }
  // ZeRO-1 (train.zero_stage = 1): the optimizer holds the owned parameters' state only; saves
  // and restores follow the owners. Must outlive this object's saves.
  void set_sharding(const OptimizerSharding* sharding) { sharding_ = sharding; }

 private:
  std::optional<std::filesystem::path> find_resume_dir() const;  // this rank's own search

  const core::CheckpointConfig& c_;
  std::string config_yaml_;
  std::string identity_yaml_;  // resume_identity_yaml()
  std::filesystem::path run_dir_;
  std::ostream* progress_;
  const OptimizerSharding* sharding_ = nullptr;
  nlohmann::json seeds_;  // the init and order/dropout seeds, for people reading the manifest
  const TrainDist* dist_;
  int64_t rank_ = 0, world_ = 1;
  ShardPlan plan_;
  std::unique_ptr<ckpt::CheckpointStore> store_;
  ckpt::AsyncSaver saver_;
  double last_pause_ = 0;
};

NamedTensors named_parameters(model::SellerModel& model);

}  // namespace seller::train
