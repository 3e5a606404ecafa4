// NCCL Communicator: ncclComm_t + its own stream from the c10 pool; every operation is
// "wait current stream -> NCCL call(s) on the NCCL stream -> record an event", and the Work
// holds the event (see the header for the stream semantics).
#include "dist/comm/nccl_communicator.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>
#include <vector>

#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <nccl.h>
#include <torch/torch.h>

#if SELLER_HAVE_MPI
#include <mpi.h>

#include "dist/comm/mpi_communicator.h"
#endif

#include "dist/comm/comm_checks.h"
#include "dist/watchdog/flight_recorder.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

const std::string kBackend = "nccl";

void check_cuda(cudaError_t rc, const char* call) {
  SELLER_THROW_IF_NOT(rc == cudaSuccess, Error, "backend nccl: ", call,
                      " failed: ", cudaGetErrorString(rc));
}

void check_nccl(ncclResult_t rc, const char* call, const std::string& group, ncclComm_t comm) {
  if (rc == ncclSuccess || rc == ncclInProgress) return;
  const char* last = comm != nullptr ? ncclGetLastError(comm) : "";
  throw Error(::seller::detail::concat("backend nccl: ", call, " on group ", group, " failed: ",
                                       ncclGetErrorString(rc), " (", last ? last : "", ")"));
}

ncclDataType_t nccl_type(torch::ScalarType type, bool reduction, const char* op) {
  switch (type) {
    case torch::kFloat:
      return ncclFloat32;
    case torch::kDouble:
      return ncclFloat64;
    case torch::kHalf:
      return ncclFloat16;
    case torch::kBFloat16:
      return ncclBfloat16;
    case torch::kInt:
      return ncclInt32;
    case torch::kLong:
      return ncclInt64;
    case torch::kChar:
      return ncclInt8;
    case torch::kByte:
      return ncclUint8;
    case torch::kBool:
      if (!reduction) return ncclUint8;
      [[fallthrough]];
    default:
      detail::unsupported(kBackend, ::seller::detail::concat(op, " of ", type, " tensors"));
  }
}

ncclRedOp_t nccl_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return ncclSum;
    case ReduceOp::kAvg:
      return ncclAvg;
    case ReduceOp::kMax:
      return ncclMax;
    case ReduceOp::kMin:
      return ncclMin;
  }
  return ncclSum;
}

// The completion event of one operation; shared with the flight recorder's poll.
struct Event {
  explicit Event(int dev) : device(dev) {
    c10::cuda::CUDAGuard guard(device);
    check_cuda(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreate");
  }
  ~Event() { cudaEventDestroy(event); }
  void record(cudaStream_t stream) {
    check_cuda(cudaEventRecord(event, stream), "cudaEventRecord");
    recorded.store(true);
  }
  // False until record(): cudaEventQuery reports an event that was never recorded as complete,
  // and an NCCL call can block the host before the event is recorded (the first operation on a
  // communicator sets up its connections with the peers, NCCL_RUNTIME_CONNECT), so without this
  // the flight recorder showed an operation stuck there as "done" (seen on 4 H200s, 2026-11-27).
  bool query() const { return recorded.load() && cudaEventQuery(event) == cudaSuccess; }
  int device;
  cudaEvent_t event{};
  std::atomic<bool> recorded{false};
};

class NcclWork : public Work {
 public:
  NcclWork(std::shared_ptr<Event> event, ncclComm_t comm, std::string group,
           std::shared_ptr<std::atomic<bool>> aborted)
      : event_(std::move(event)),
        comm_(comm),
        group_(std::move(group)),
        aborted_(std::move(aborted)) {}

  void wait() override {
    check_async_error();
    c10::cuda::CUDAGuard guard(event_->device);
    auto stream = c10::cuda::getCurrentCUDAStream(event_->device);
    check_cuda(cudaStreamWaitEvent(stream.stream(), event_->event, 0), "cudaStreamWaitEvent");
  }

  bool is_completed() override {
    check_async_error();
    return event_->query();
  }

 private:
  void check_async_error() {
    SELLER_THROW_IF_NOT(!aborted_->load(), Error, "backend nccl: group ", group_, " was aborted");
    ncclResult_t async_error = ncclSuccess;
    check_nccl(ncclCommGetAsyncError(comm_, &async_error), "ncclCommGetAsyncError", group_, comm_);
    check_nccl(async_error, "an operation", group_, comm_);
  }

  std::shared_ptr<Event> event_;
  ncclComm_t comm_;
  std::string group_;
  std::shared_ptr<std::atomic<bool>> aborted_;
};

class NcclCommunicator;

// One rank's world communicator and every communicator split from it. abort() on any of them
// aborts all (Communicator's contract: "and of the communicators of the same world"): each has
// its own ncclComm_t, and a rank blocked in a collective of a split group (tp, ep, dp, edp) is
// only released by aborting that group's ncclComm_t, so aborting the world alone would leave it
// hanging. Members register in their constructor and leave in their destructor, under the lock,
// so abort() never touches a destroyed member.
struct NcclFamily {
  std::mutex mu;
  std::vector<NcclCommunicator*> members;
};

class NcclCommunicator : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, int device, std::string name,
                   std::shared_ptr<NcclFamily> family)
      : comm_(comm),
        device_(device),
        name_(std::move(name)),
        stream_(c10::cuda::getStreamFromPool(/*isHighPriority=*/true,
                                             static_cast<c10::DeviceIndex>(device))),
        family_(std::move(family)) {
    check_nccl(ncclCommUserRank(comm_, &rank_), "ncclCommUserRank", name_, comm_);
    check_nccl(ncclCommCount(comm_, &size_), "ncclCommCount", name_, comm_);
    std::lock_guard<std::mutex> lock(family_->mu);
    family_->members.push_back(this);
  }

  ~NcclCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(family_->mu);
      auto& m = family_->members;
      m.erase(std::remove(m.begin(), m.end(), this), m.end());
    }
    if (!aborted_->load()) ncclCommDestroy(comm_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& backend() const override { return kBackend; }
  const std::string& name() const override { return name_; }

  WorkPtr all_reduce(torch::Tensor& tensor, ReduceOp op, bool async) override {
    check_device("all_reduce", tensor, "input");
    ncclDataType_t type = nccl_type(tensor.scalar_type(), true, "all_reduce");
    return run(std::string("all_reduce.") + to_string(op), {tensor}, async, [&](cudaStream_t s) {
      check(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), type, nccl_op(op),
                          comm_, s),
            "ncclAllReduce");
    });
  }

  WorkPtr reduce_scatter(const torch::Tensor& input, torch::Tensor& output, ReduceOp op,
                         bool async) override {
    check_device("reduce_scatter", input, "input");
    check_device("reduce_scatter", output, "output");
    detail::check_scatter_gather(kBackend, "reduce_scatter", input, output, size_);
    ncclDataType_t type = nccl_type(input.scalar_type(), true, "reduce_scatter");
    return run(std::string("reduce_scatter.") + to_string(op), {input, output}, async,
               [&](cudaStream_t s) {
                 check(ncclReduceScatter(input.data_ptr(), output.data_ptr(), output.numel(), type,
                                         nccl_op(op), comm_, s),
                       "ncclReduceScatter");
               });
  }

  WorkPtr all_gather(const torch::Tensor& input, torch::Tensor& output, bool async) override {
    check_device("all_gather", input, "input");
    check_device("all_gather", output, "output");
    detail::check_scatter_gather(kBackend, "all_gather", output, input, size_);
    ncclDataType_t type = nccl_type(input.scalar_type(), false, "all_gather");
    return run("all_gather", {input, output}, async, [&](cudaStream_t s) {
      check(ncclAllGather(input.data_ptr(), output.data_ptr(), input.numel(), type, comm_, s),
            "ncclAllGather");
    });
  }

  WorkPtr all_to_all_v(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                       torch::Tensor& output, const std::vector<int64_t>& recv_counts,
                       bool async) override {
    detail::check_all_to_all(kBackend, input, send_counts, output, recv_counts, size_);
    check_device("all_to_all_v", input, "input");
    check_device("all_to_all_v", output, "output");
    ncclDataType_t type = nccl_type(input.scalar_type(), false, "all_to_all_v");
    const int64_t row_bytes = detail::row_numel(input) * input.element_size();
    const int64_t row = detail::row_numel(input);
    return run("all_to_all_v", {input, output}, async, [&](cudaStream_t s) {
      auto* in = static_cast<char*>(input.data_ptr());
      auto* out = static_cast<char*>(output.data_ptr());
      int64_t send_off = 0, recv_off = 0;
      check(ncclGroupStart(), "ncclGroupStart");
      for (int peer = 0; peer < size_; ++peer) {
        // Zero-count pairs issue nothing: NCCL matches sends and receives per pair.
        if (send_counts[peer] > 0) {
          check(ncclSend(in + send_off * row_bytes, send_counts[peer] * row, type, peer, comm_, s),
                "ncclSend");
        }
        if (recv_counts[peer] > 0) {
          check(ncclRecv(out + recv_off * row_bytes, recv_counts[peer] * row, type, peer, comm_, s),
                "ncclRecv");
        }
        send_off += send_counts[peer];
        recv_off += recv_counts[peer];
      }
      check(ncclGroupEnd(), "ncclGroupEnd");
    });
  }

  WorkPtr broadcast(torch::Tensor& tensor, int root, bool async) override {
    check_device("broadcast", tensor, "input");
    detail::check_rank_arg(kBackend, "broadcast", "root", root, size_);
    ncclDataType_t type = nccl_type(tensor.scalar_type(), false, "broadcast");
    return run("broadcast", {tensor}, async, [&](cudaStream_t s) {
      check(
          ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.numel(), type, root, comm_, s),
          "ncclBroadcast");
    });
  }

  WorkPtr send(const torch::Tensor& tensor, int peer, int tag) override {
    check_device("send", tensor, "input");
    detail::check_rank_arg(kBackend, "send", "peer", peer, size_);
    check_tag(tag, "send");
    ncclDataType_t type = nccl_type(tensor.scalar_type(), false, "send");
    return run("send", {tensor}, true, [&](cudaStream_t s) {
      check(ncclSend(tensor.data_ptr(), tensor.numel(), type, peer, comm_, s), "ncclSend");
    });
  }

  WorkPtr recv(torch::Tensor& tensor, int peer, int tag) override {
    check_device("recv", tensor, "output");
    detail::check_rank_arg(kBackend, "recv", "peer", peer, size_);
    check_tag(tag, "recv");
    ncclDataType_t type = nccl_type(tensor.scalar_type(), false, "recv");
    return run("recv", {tensor}, true, [&](cudaStream_t s) {
      check(ncclRecv(tensor.data_ptr(), tensor.numel(), type, peer, comm_, s), "ncclRecv");
    });
  }

  // A one-element all-reduce, then the host waits for it: every rank has reached this point.
  void barrier() override {
    c10::cuda::CUDAGuard guard(device_);
    torch::Tensor one = torch::ones({1}, torch::TensorOptions().device(torch::kCUDA, device_));
    all_reduce(one, ReduceOp::kSum, false);
    check_cuda(cudaStreamSynchronize(c10::cuda::getCurrentCUDAStream(device_).stream()),
               "cudaStreamSynchronize");
  }

  CommunicatorPtr split(const std::vector<int>& ranks, const std::string& name) override {
    detail::check_split_ranks(kBackend, ranks, size_);
    int color = NCCL_SPLIT_NOCOLOR, key = 0;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] == rank_) color = 0, key = static_cast<int>(i);
    }
    detail::OpRecord record(recorder_, "split", name_, ++seq_, 0);
    c10::cuda::CUDAGuard guard(device_);
    ncclComm_t child = nullptr;
    check(ncclCommSplit(comm_, color, key, &child, nullptr), "ncclCommSplit");
    record.end();
    if (child == nullptr) return nullptr;
    auto comm = std::make_shared<NcclCommunicator>(child, device_, name, family_);
    comm->set_recorder(recorder_);
    return comm;
  }

  // This communicator and every other of its family (the world and its splits).
  void abort(const std::string& reason) override {
    std::lock_guard<std::mutex> lock(family_->mu);
    for (NcclCommunicator* member : family_->members) member->abort_one(reason);
  }

 private:
  void abort_one(const std::string& reason) {
    if (aborted_->exchange(true)) return;
    std::fprintf(stderr, "[rank %d] backend nccl: aborting group %s: %s\n", rank_, name_.c_str(),
                 reason.c_str());
    ncclCommAbort(comm_);
  }

  void check(ncclResult_t rc, const char* call) const { check_nccl(rc, call, name_, comm_); }

  void check_device(const char* op, const torch::Tensor& t, const char* what) const {
    detail::check_tensor(kBackend, op, t, what);
    if (!t.is_cuda()) {
      detail::unsupported(
          kBackend, ::seller::detail::concat(
                        op, " of ", c10::DeviceTypeName(t.device().type(), true), " tensors"));
    }
    SELLER_THROW_IF_NOT(t.device().index() == device_, Error, "backend nccl: ", op, " on group ",
                        name_, ": ", what, " tensor on ", t.device(),
                        " but the communicator is on cuda:", device_);
  }

  void check_tag(int tag, const char* op) const {
    // NCCL has no tags: messages between a pair arrive in issue order.
    if (tag != 0) detail::unsupported(kBackend, ::seller::detail::concat(op, " with tag != 0"));
  }

  WorkPtr run(const std::string& op, std::vector<torch::Tensor> tensors, bool async,
              const std::function<void(cudaStream_t)>& launch) {
    SELLER_THROW_IF_NOT(!aborted_->load(), Error, "backend nccl: ", op, " on group ", name_,
                        ": the communicator was aborted");
    c10::cuda::CUDAGuard guard(device_);
    auto current = c10::cuda::getCurrentCUDAStream(device_);
    auto ready = std::make_shared<Event>(device_);
    ready->record(current.stream());
    check_cuda(cudaStreamWaitEvent(stream_.stream(), ready->event, 0), "cudaStreamWaitEvent");
    for (auto& t : tensors) {
      if (t.numel() > 0)
        c10::cuda::CUDACachingAllocator::recordStream(t.storage().data_ptr(), stream_);
    }
    auto done = std::make_shared<Event>(device_);
    uint64_t seq = ++seq_;
    if (recorder_) {
      recorder_->begin(op, name_, seq, detail::tensor_bytes(tensors.front()),
                       [done] { return done->query(); });
    }
    launch(stream_.stream());
    done->record(stream_.stream());
    auto work = std::make_shared<NcclWork>(done, comm_, name_, aborted_);
    if (!async) work->wait();
    return work;
  }

  ncclComm_t comm_;
  int device_;
  std::string name_;
  c10::cuda::CUDAStream stream_;
  int rank_ = 0;
  int size_ = 1;
  std::atomic<uint64_t> seq_{0};
  std::shared_ptr<std::atomic<bool>> aborted_ = std::make_shared<std::atomic<bool>>(false);
  std::shared_ptr<NcclFamily> family_;
};

}  // namespace

CommunicatorPtr make_nccl_world(int rank, int size, const BootstrapFn& bootstrap, int device,
                                const std::string& name) {
  SELLER_THROW_IF_NOT(size >= 1 && rank >= 0 && rank < size, ConfigError, "backend nccl: rank ",
                      rank, " is not in a world of ", size, " ranks");
  if (device < 0) device = c10::cuda::current_device();
  c10::cuda::CUDAGuard guard(device);
  ncclUniqueId id;
  std::string mine;
  if (rank == 0) {
    check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId", name, nullptr);
    mine.assign(reinterpret_cast<const char*>(&id), sizeof(id));
  }
  std::string shared = bootstrap("seller/nccl/" + name, mine);
  SELLER_THROW_IF_NOT(shared.size() == sizeof(id), Error, "backend nccl: the bootstrap gave ",
                      shared.size(), " bytes for the ncclUniqueId of group ", name, ", expected ",
                      sizeof(id));
  std::memcpy(&id, shared.data(), sizeof(id));
  ncclComm_t comm = nullptr;
  check_nccl(ncclCommInitRank(&comm, size, id, rank), "ncclCommInitRank", name, nullptr);
  return std::make_shared<NcclCommunicator>(comm, device, name, std::make_shared<NcclFamily>());
}

BootstrapFn MemoryBootstrap::fn() {
  return [this](const std::string& key, const std::string& value) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!value.empty()) {
      values_[key] = value;
      cv_.notify_all();
      return value;
    }
    cv_.wait(lock, [&] { return values_.count(key) > 0; });
    return values_[key];
  };
}

#if SELLER_HAVE_MPI
BootstrapFn mpi_bootstrap() {
  return [](const std::string& key, const std::string& value) {
    (void)key;
    mpi_ensure_initialized();
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int64_t n = rank == 0 ? static_cast<int64_t>(value.size()) : 0;
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, MPI_COMM_WORLD);
    std::string out = rank == 0 ? value : std::string(static_cast<size_t>(n), '\0');
    MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
    return out;
  };
}
#endif

}  // namespace seller::dist
