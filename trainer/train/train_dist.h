// The data-parallel context of one `seller train` process: which rank it is (from mpirun, srun,
// `seller launch` or torchrun-style variables; trainer/io/rank_env.h), the world communicator,
// and the few collective helpers the training loop needs besides DDP's gradient buckets.
//
// Backends (train.dist_backend): mpi for CPU tensors (the ranks must be MPI processes: mpirun,
// or mpirun inside an sbatch script), nccl for CUDA tensors (the unique id travels through MPI
// when the ranks are MPI processes, else through the token-authenticated TCP store of rank 0,
// e.g. under srun or `seller launch`); auto picks nccl on CUDA and mpi on CPU. A single process
// (world size 1) gets no communicator and every helper is a cheap local no-op.
//
// Batches (docs/parallel.md, "Data-parallel training"): train.batch_size is the micro-batch of
// ONE rank, so a global micro-batch holds batch_size x dp examples of the shared epoch order and
// rank r takes the r-th contiguous share (slice(); with tensor parallelism, data shard r). A rank's
// micro-batch loss (a mean over its rows) is weighted by rows_r x dp / rows of the whole optimizer
// step, so that the step's gradient is the row-weighted mean over every micro-batch of every rank,
// also for the partial last step of an epoch; a rank with no row of a micro-batch runs a
// zero-weight step on a stand-in row so that it joins every collective. With these rules dp ranks
// equal one process with grad_accum multiplied by dp (tests/integration/test_train_dp.cpp).
//
// Invariants: every rank calls every helper in the same order (they are collectives); on CUDA
// the device is cuda:<local rank> and set as current before the communicator is made.
#pragma once

#include <c10/core/Event.h>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "checkpoints/store.h"
#include "dist/comm/communicator.h"
#include "trainer/io/rank_env.h"

namespace seller::dist {
class Rendezvous;
}

namespace seller::train {

class TrainDist {
 public:
  // Detects the launch and, with several ranks, makes the world communicator. `device` comes in
  // as resolved from train.device and leaves as this rank's device (cuda:<local rank> on GPU).
  // ConfigError naming train.dist_backend when the backend cannot serve the device or launch.
  static std::unique_ptr<TrainDist> from_env(const std::string& backend, torch::Device& device,
                                             std::ostream* progress);
  ~TrainDist();
  TrainDist(const TrainDist&) = delete;
  TrainDist& operator=(const TrainDist&) = delete;

  bool enabled() const { return world_ != nullptr; }  // more than one rank
  int rank() const { return info_.rank; }
  int size() const { return info_.world_size; }
  bool is_main() const { return info_.rank == 0; }
  const dist::CommunicatorPtr& world() const { return world_; }
  std::string describe() const;  // "rank 1/4 (local 1/2) from mpi, backend mpi"

  // Shard `shard` [begin, end) of a global micro-batch of `rows` rows split into `shards`
  // contiguous shares (the first rows % shards shares one row longer).
  static std::pair<size_t, size_t> slice(size_t rows, int64_t shard, int64_t shards);
  // In place: the sum over ranks of each value.
  void sum(std::vector<double>& values) const;
  void sum(std::vector<int64_t>& values) const;
  // The largest of the ranks' values (the stop-signal agreement: one rank's SIGTERM stops all).
  int64_t max(int64_t value) const;
  // The same agreement without stalling a GPU step: on a CUDA communicator call s starts the
  // all-reduce and a copy to pinned host memory and returns call s-1's result (long finished by
  // then; 0 at the first call), so every rank sees the same value at the same call, one call
  // late. On CPU it is max(value) at once.
  int64_t max_one_late(int64_t value);
  // Rank 0's parameters on every rank (a start-up guard against divergent initialisation).
  void broadcast_parameters(const std::vector<torch::Tensor>& params) const;
  void barrier() const;
  // broadcast / gather / barrier over the world communicator for the checkpoint commit protocol.
  ckpt::CommitHooks commit_hooks() const;
  // Makes every rank's pending collectives fail (MPI: aborts the job) so that one rank's error
  // does not leave the others waiting forever.
  void abort(const std::string& reason) const;

 private:
  TrainDist() = default;
  // A byte string through a collective: rank 0's bytes on every rank / every rank's at rank 0.
  std::string broadcast_string(const std::string& value) const;
  std::vector<std::string> gather_strings(const std::string& value) const;

  dist::RankInfo info_;
  std::string backend_;
  torch::Device comm_device_{torch::kCPU};  // where collective buffers live
  std::unique_ptr<dist::Rendezvous> rendezvous_;
  dist::CommunicatorPtr world_;
  torch::Tensor late_host_;                 // max_one_late: the pending result (pinned)
  std::shared_ptr<c10::Event> late_ready_;  // recorded after its copy
};

}  // namespace seller::train
