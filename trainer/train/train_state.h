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
// Invariants: a snapshot never aliases live training memory (it is a copy, pinned on CUDA and
// synchronised before the snapshot returns), so the background writer may run while training
// changes the weights; restoring checks every name and shape and names the checkpoint folder.
#pragma once

#include <torch/torch.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "checkpoints/chunk_io.h"
#include "checkpoints/manifest.h"

namespace seller::train {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Host snapshot of tensors for a single-rank layout (each chunk = the whole tensor).
class Snapshot {
 public:
  void add(const std::string& name, const torch::Tensor& t);
  void add_all(const std::string& prefix, const NamedTensors& named);
  // AdamW moments under optim/; per-parameter step counts into state["optimizer_steps"].
  void add_optimizer(torch::optim::AdamW& opt, const NamedTensors& params, nlohmann::json& state);
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
  // Copies prefix+name into each target; every target must be present with its shape, and no
  // other tensor may sit under the prefix (FormatError listing the differences).
  void load_into(const std::string& prefix, const NamedTensors& targets);
  void load_optimizer(torch::optim::AdamW& opt, const NamedTensors& params);
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
