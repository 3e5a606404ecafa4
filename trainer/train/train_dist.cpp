// The data-parallel context of a training process (train_dist.h).
#include "trainer/train/train_dist.h"

#include <cstdlib>
#include <thread>

#include <algorithm>

#include <c10/core/impl/VirtualGuardImpl.h>

#include "trainer/core/error.h"
#include "trainer/io/store_rendezvous.h"

#if SELLER_HAVE_MPI
#include "dist/comm/mpi_communicator.h"
#endif
#if SELLER_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>

#include "dist/comm/nccl_communicator.h"
#endif

namespace seller::train {
namespace {

[[noreturn]] void unsupported(const std::string& what) {
  throw ConfigError(detail::concat("train.dist_backend: ", what));
}

}  // namespace

std::unique_ptr<TrainDist> TrainDist::from_env(const std::string& backend, torch::Device& device,
                                               std::ostream* progress) {
  std::unique_ptr<TrainDist> d(new TrainDist());
  d->info_ = dist::detect_rank_info();
  if (d->info_.world_size == 1) return d;
  const bool mpi_launch = d->info_.source == dist::LaunchSource::kMpi;
  std::string chosen = backend;
  if (chosen == "auto") chosen = device.is_cuda() ? "nccl" : "mpi";
  d->backend_ = chosen;
  if (chosen == "mpi") {
    if (device.is_cuda())
      unsupported("mpi moves CPU tensors, but train.device is " + device.str() +
                  "; use nccl (or auto) on GPUs");
    if (!mpi_launch)
      unsupported(detail::concat(
          "mpi needs MPI processes, but this rank was started by ",
          dist::source_name(d->info_.source), " (", d->info_.describe(),
          "); start CPU data parallel with mpirun -np N seller train ... (inside an sbatch script "
          "too), or use GPUs with nccl"));
#if SELLER_HAVE_MPI
    d->world_ = dist::make_mpi_world();
    SELLER_THROW_IF_NOT(d->world_->size() == d->info_.world_size, ConfigError,
                        "MPI_COMM_WORLD has ", d->world_->size(),
                        " ranks but the environment says ", d->info_.world_size, " (",
                        d->info_.describe(), ")");
#else
    unsupported("mpi was chosen but this build has no MPI (SELLER_WITH_MPI found none)");
#endif
  } else {  // nccl
    if (!device.is_cuda())
      unsupported("nccl moves CUDA tensors, but train.device is " + device.str() +
                  "; use mpi (or auto) on CPUs");
#if SELLER_HAVE_NCCL
    // One GPU per rank: the rank's local index picks it, whatever train.device named.
    const int gpus = static_cast<int>(torch::cuda::device_count());
    SELLER_THROW_IF_NOT(d->info_.local_rank < gpus, ConfigError, d->info_.describe(),
                        ": local rank ", d->info_.local_rank, " needs GPU ", d->info_.local_rank,
                        " but this node has ", gpus, "; start at most one rank per GPU");
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(d->info_.local_rank));
    c10::cuda::set_device(device.index());
    dist::BootstrapFn bootstrap;
#if SELLER_HAVE_MPI
    if (mpi_launch) {
      dist::mpi_ensure_initialized();
      bootstrap = dist::mpi_bootstrap();
    }
#endif
    if (!bootstrap) {
      d->rendezvous_ =
          std::make_unique<dist::Rendezvous>(d->info_, dist::store_options_from_env(""));
      auto* rv = d->rendezvous_.get();
      bootstrap = [rv](const std::string& key, const std::string& value) {
        return rv->broadcast(key, value);
      };
    }
    d->world_ =
        dist::make_nccl_world(d->info_.rank, d->info_.world_size, bootstrap, device.index());
#else
    unsupported("nccl was chosen but this build has no NCCL (SELLER_WITH_NCCL found none)");
#endif
  }
  d->comm_device_ = device;
  // Several ranks on one node would each start an intra-op pool as wide as the node: their
  // spinning threads then steal the cores the others' host work needs (measured on 4 x H200:
  // 79% weak-scaling efficiency at 4 ranks). Share the cores out, as torchrun does, unless the
  // user chose with OMP_NUM_THREADS.
  int threads = 0;
  if (std::getenv("OMP_NUM_THREADS") == nullptr && d->info_.local_world_size > 1) {
    const auto cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / d->info_.local_world_size);
    torch::set_num_threads(threads);
  }
  if (progress && d->is_main())
    *progress << "data parallel: " << d->info_.world_size << " ranks over " << chosen << " ("
              << d->info_.describe() << ")"
              << (threads > 0 ? detail::concat("; ", threads, " CPU threads per rank") : "")
              << "\n";
  return d;
}

TrainDist::~TrainDist() {
  if (!rendezvous_) return;
  try {
    rendezvous_->finish();  // rank 0 serves the store until every rank has left it
  } catch (const std::exception&) {
    // A rank that died already: nothing left to coordinate with.
  }
}

std::string TrainDist::describe() const {
  return info_.describe() + (enabled() ? ", backend " + backend_ : "");
}

std::pair<size_t, size_t> TrainDist::slice(size_t rows, int64_t shard, int64_t shards) {
  const auto n = static_cast<size_t>(shards);
  const auto r = static_cast<size_t>(shard);
  const size_t base = rows / n, extra = rows % n;
  const size_t begin = r * base + std::min(r, extra);
  return {begin, begin + base + (r < extra ? 1 : 0)};
}

namespace {
template <class T>
void sum_over(const dist::CommunicatorPtr& world, torch::Device device, std::vector<T>& values,
              torch::ScalarType type) {
  if (!world || values.empty()) return;
  torch::Tensor t = torch::tensor(values, type).to(device);
  world->all_reduce(t, dist::ReduceOp::kSum);
  t = t.cpu();
  std::copy_n(t.data_ptr<T>(), values.size(), values.begin());
}
}  // namespace

void TrainDist::sum(std::vector<double>& values) const {
  sum_over(world_, comm_device_, values, torch::kDouble);
}

void TrainDist::sum(std::vector<int64_t>& values) const {
  sum_over(world_, comm_device_, values, torch::kLong);
}

int64_t TrainDist::max(int64_t value) const {
  if (!world_) return value;
  auto t = torch::tensor({value}, torch::kLong).to(comm_device_);
  world_->all_reduce(t, dist::ReduceOp::kMax);
  return t.cpu().item<int64_t>();
}

int64_t TrainDist::max_one_late(int64_t value) {
  if (!world_ || !comm_device_.is_cuda()) return max(value);
  int64_t previous = 0;
  if (late_ready_) {
    late_ready_->synchronize();
    previous = late_host_.item<int64_t>();
  }
  // Made on the device (a host tensor's .to(device) would wait for the whole stream).
  auto t = torch::full({1}, value, torch::TensorOptions().dtype(torch::kLong).device(comm_device_));
  world_->all_reduce(t, dist::ReduceOp::kMax);
  late_host_ = torch::empty({1}, torch::TensorOptions().dtype(torch::kLong).pinned_memory(true));
  late_host_.copy_(t, /*non_blocking=*/true);
  late_ready_ = std::make_shared<c10::Event>(c10::DeviceType::CUDA);
  const c10::impl::VirtualGuardImpl cuda(c10::DeviceType::CUDA);
  late_ready_->record(cuda.getStream(comm_device_));
  return previous;
}

void TrainDist::broadcast_parameters(const std::vector<torch::Tensor>& params) const {
  if (!world_) return;
  torch::NoGradGuard no_grad;
  for (const auto& p : params) {
    auto t = p.detach().contiguous();  // shares p's storage unless p is not contiguous
    world_->broadcast(t, 0);
    if (t.data_ptr() != p.data_ptr()) p.detach().copy_(t);
  }
}

void TrainDist::barrier() const {
  if (world_) world_->barrier();
}

void TrainDist::abort(const std::string& reason) const {
  if (world_) world_->abort(reason);
}

std::string TrainDist::broadcast_string(const std::string& value) const {
  auto len = torch::tensor({static_cast<int64_t>(value.size())}, torch::kLong).to(comm_device_);
  world_->broadcast(len, 0);
  const int64_t n = len.cpu().item<int64_t>();
  auto bytes = torch::zeros({std::max<int64_t>(n, 1)}, torch::kByte);
  if (is_main()) std::copy(value.begin(), value.end(), bytes.data_ptr<uint8_t>());
  bytes = bytes.to(comm_device_);
  world_->broadcast(bytes, 0);
  bytes = bytes.cpu();
  return {reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), static_cast<size_t>(n)};
}

std::vector<std::string> TrainDist::gather_strings(const std::string& value) const {
  // All-gather of the lengths, then of the bytes padded to the longest: two collectives that
  // every backend has (there is no gather in the Communicator interface).
  const int n = size();
  auto len = torch::tensor({static_cast<int64_t>(value.size())}, torch::kLong).to(comm_device_);
  auto lens = torch::empty({n}, len.options());
  world_->all_gather(len, lens);
  lens = lens.cpu();
  const int64_t longest = std::max<int64_t>(lens.max().item<int64_t>(), 1);
  auto mine = torch::zeros({longest}, torch::kByte);
  std::copy(value.begin(), value.end(), mine.data_ptr<uint8_t>());
  mine = mine.to(comm_device_);
  auto all = torch::empty({n * longest}, mine.options());
  world_->all_gather(mine, all);
  all = all.cpu();
  std::vector<std::string> out;
  for (int r = 0; r < n; ++r)
    out.emplace_back(reinterpret_cast<const char*>(all.data_ptr<uint8_t>()) + r * longest,
                     static_cast<size_t>(lens[r].item<int64_t>()));
  return out;
}

ckpt::CommitHooks TrainDist::commit_hooks() const {
  ckpt::CommitHooks hooks;
  if (!world_) return hooks;
  hooks.broadcast = [this](const std::string& v) { return broadcast_string(v); };
  hooks.gather = [this](const std::string& v) { return gather_strings(v); };
  hooks.barrier = [this] { world_->barrier(); };
  return hooks;
}

}  // namespace seller::train
