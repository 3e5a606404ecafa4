// The LibTorch side of checkpoints: turning the trainer's tensors (parameters, AdamW state,
// best-so-far weights, RNG states) into checkpoint chunks held in host memory, and reading them
// back from a committed checkpoint (checkpoints/ is torch-free and sees only bytes).
//
// Names in a checkpoint:
//   model/<param>                 every model parameter (module path names, as in named_parameters)
//   optim/<param>/exp_avg         AdamW first moment       (params with optimizer state only)
//   optim/<param>/exp_avg_sq      AdamW second moment
//   best/<param>                  weights of the best validation so far (when one was taken)
//   rng/cpu                       uint8 [world, bytes]: row r = rank r's CPU generator state
//   rng/cuda<i>                   uint8 [world, bytes]: rank r's generator of CUDA device i
// AdamW's per-parameter step counts, the learning rates and everything scalar live in the
// manifest's train_state JSON (trainer/train/seller_trainer.cpp fills it).
// Sharded parameters (the adapter's experts under expert parallelism, the LLM's slices under
// tensor parallelism): a ShardPlan says which rows or columns of the global tensor a rank's
// parameter holds and which ranks write which tensors; chunks then cover their rows of the global
// shape, and loading reads only the rows a rank holds, so a checkpoint moves between layouts (1
// process <-> expert-parallel ranks). Invariants: a snapshot never aliases live training memory (it
// is a copy, pinned on CUDA and synchronised before the snapshot returns), so the background writer
// may run while training changes the weights; restoring checks every name and shape and names the
// checkpoint folder.
#pragma once

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "checkpoints/chunk_io.h"
#include "checkpoints/manifest.h"

namespace seller::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// The slice [start, start + local size) along dimension `dim` of a global tensor whose size
// along it is `global` (global < 0: the whole tensor). Expert shards cut rows (dim 0), tensor-
// parallel slices of the LLM rows or columns (dim 1: o_proj, down_proj).
struct TensorShard {
  int64_t start = 0;
  int64_t global = -1;
  int64_t dim = 0;
};

// By parameter name (no prefix): its shard on this rank, and whether this rank writes it. The
// default plan: every tensor whole, every tensor written (one rank).
struct ShardPlan {
  std::function<TensorShard(const std::string&)> shard;
  std::function<bool(const std::string&)> writes;
  TensorShard of(const std::string& name) const { return shard ? shard(name) : TensorShard{}; }
  bool write(const std::string& name) const { return !writes || writes(name); }
};

// The process's default random generators: the CPU one, then CUDA device 0, 1, ... (those
// present); and a generator's state read or written under its lock.
std::vector<at::Generator> default_generators();
torch::Tensor generator_state(const at::Generator& g);
void set_generator_state(const at::Generator& g, const torch::Tensor& state);

// Host snapshot of tensors for a single-rank layout (each chunk = the whole tensor).
class Snapshot {
 public:
  void add(const std::string& name, const torch::Tensor& t, const TensorShard& shard = {});
  // The tensors the plan says this rank writes, each at its shard.
  void add_all(const std::string& prefix, const NamedTensors& named, const ShardPlan& plan = {});
  // AdamW moments under optim/ (those the plan says this rank writes); every parameter's step
  // count into state["optimizer_steps"].
  void add_optimizer(torch::optim::AdamW& opt, const NamedTensors& params, nlohmann::json& state,
                     const ShardPlan& plan = {});
  // RNG rows of `rank` in a [world, n] tensor per generator; seeds into state["rng"].
  void add_rng(int64_t rank, int64_t world, nlohmann::json& state);
  // Waits for device-to-host copies; hands the chunks over.
  std::vector<ckpt::ChunkData> finish();
  uint64_t bytes() const { return bytes_; }

 private:
  std::vector<ckpt::ChunkData> chunks_;
  std::vector<torch::Tensor> host_;
  bool cuda_ = false;
  uint64_t bytes_ = 0;
};

// A committed checkpoint opened for reading global tensors.
class CheckpointSource {
 public:
  explicit CheckpointSource(const std::filesystem::path& dir);
  const ckpt::Manifest& manifest() const { return manifest_; }
  const std::filesystem::path& dir() const { return dir_; }
  bool has(const std::string& name) const { return manifest_.find(name) != nullptr; }
  torch::Tensor tensor(const std::string& name);  // CPU, global shape
  // CPU, the rows `shard` names of a tensor whose local shape is `local` (whole when unsharded).
  torch::Tensor tensor(const std::string& name, const TensorShard& shard,
                       const std::vector<int64_t>& local);
  // Copies prefix+name (its shard per the plan) into each target; every target must be present
  // with its global shape, and no other tensor may sit under the prefix (FormatError listing the
  // differences).
  void load_into(const std::string& prefix, const NamedTensors& targets,
                 const ShardPlan& plan = {});
  void load_optimizer(torch::optim::AdamW& opt, const NamedTensors& params,
                      const ShardPlan& plan = {});
  // Restores the generators of `rank` when the checkpoint's world equals `world`; otherwise
  // leaves them seeded as they are and warns (another layout draws other numbers anyway).
  void load_rng(int64_t rank, int64_t world, std::ostream* warn);

 private:
  std::filesystem::path dir_;
  ckpt::Manifest manifest_;
  ckpt::ChunkReader reader_;
};

torch::ScalarType torch_dtype(io::DType t);

}  // namespace seller::train
