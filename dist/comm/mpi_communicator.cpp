// MPI Communicator: every operation starts one non-blocking MPI call and returns an MpiWork that
// owns the request, keeps the tensors alive, and runs the finishing step (kAvg division, copy
// back from an fp32 staging tensor) exactly once when completion is first observed.
#include "dist/comm/mpi_communicator.h"

#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <thread>

#include <torch/torch.h>

#include "dist/comm/comm_checks.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

const std::string kBackend = "mpi";
int g_thread_level = -1;
std::mutex g_mpi_mu;  // serialises MPI calls when the library is not MPI_THREAD_MULTIPLE

// Holds g_mpi_mu only when MPI needs it.
class MpiLock {
 public:
  MpiLock() : lock_(g_mpi_mu, std::defer_lock) {
    if (g_thread_level < MPI_THREAD_MULTIPLE) lock_.lock();
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

void check_mpi(int rc, const char* call, const std::string& group) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Error(::seller::detail::concat("backend mpi: ", call, " on group ", group,
                                       " failed: ", std::string(text, len)));
}

// Reductions run on a type MPI has: bf16/fp16 are staged through fp32.
bool needs_staging(const torch::Tensor& t) {
  return t.scalar_type() == torch::kBFloat16 || t.scalar_type() == torch::kHalf;
}

MPI_Datatype mpi_type(torch::ScalarType type, const char* op) {
  switch (type) {
    case torch::kFloat:
      return MPI_FLOAT;
    case torch::kDouble:
      return MPI_DOUBLE;
    case torch::kInt:
      return MPI_INT32_T;
    case torch::kLong:
      return MPI_INT64_T;
    case torch::kShort:
      return MPI_INT16_T;
    case torch::kChar:
      return MPI_INT8_T;
    case torch::kByte:
      return MPI_UINT8_T;
    case torch::kBool:
      return MPI_C_BOOL;
    case torch::kBFloat16:
    case torch::kHalf:
      return MPI_UINT16_T;  // moved as raw 16-bit words; reductions are staged in fp32
    default:
      detail::unsupported(kBackend, ::seller::detail::concat(op, " of ", type, " tensors"));
  }
}

MPI_Op mpi_op(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      return MPI_SUM;
    case ReduceOp::kMax:
      return MPI_MAX;
    case ReduceOp::kMin:
      return MPI_MIN;
  }
  return MPI_SUM;
}

int to_int(int64_t v, const char* op) {
  SELLER_THROW_IF_NOT(v <= INT_MAX, Error, "backend mpi: ", op, ": ", v,
                      " elements exceed MPI's int counts; split the tensor");
  return static_cast<int>(v);
}

class MpiWork : public Work {
 public:
  MpiWork(MPI_Request request, std::function<void()> finish, detail::OpRecord record,
          std::vector<torch::Tensor> keep_alive, std::string group)
      : request_(request),
        finish_(std::move(finish)),
        record_(std::move(record)),
        keep_alive_(std::move(keep_alive)),
        group_(std::move(group)) {}

  void wait() override {
    while (!is_completed()) std::this_thread::yield();
  }

  bool is_completed() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return true;
    int flag = 0;
    {
      MpiLock mpi;
      check_mpi(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE), "MPI_Test", group_);
    }
    if (!flag) return false;
    if (finish_) finish_();
    keep_alive_.clear();
    record_.end();
    done_ = true;
    return true;
  }

 private:
  std::mutex mu_;
  MPI_Request request_;
  std::function<void()> finish_;
  detail::OpRecord record_;
  std::vector<torch::Tensor> keep_alive_;
  std::string group_;
  bool done_ = false;
};

class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, std::string name, bool owned)
      : comm_(comm), name_(std::move(name)), owned_(owned) {
    MpiLock mpi;
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) {
      MpiLock mpi;
      MPI_Comm_free(&comm_);
    }
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  const std::string& backend() const override { return kBackend; }
  const std::string& name() const override { return name_; }

  WorkPtr all_reduce(torch::Tensor& tensor, ReduceOp op, bool async) override {
    const char* what = "all_reduce";
    check_cpu(what, tensor, "input");
    torch::Tensor buf = needs_staging(tensor) ? tensor.to(torch::kFloat) : tensor;
    auto finish = [tensor, buf, op, n = size_]() mutable {
      if (op == ReduceOp::kAvg) detail::finish_avg(buf, n);
      if (!buf.is_same(tensor)) tensor.copy_(buf);
    };
    MPI_Datatype type = reduce_type(buf, what);
    return start(std::string(what) + "." + to_string(op), tensor, async, finish, {tensor, buf},
                 [&](MPI_Request* req) {
                   return MPI_Iallreduce(MPI_IN_PLACE, buf.data_ptr(), to_int(buf.numel(), what),
                                         type, mpi_op(op), comm_, req);
                 });
  }

  WorkPtr reduce_scatter(const torch::Tensor& input, torch::Tensor& output, ReduceOp op,
                         bool async) override {
    const char* what = "reduce_scatter";
    check_cpu(what, input, "input");
    check_cpu(what, output, "output");
    detail::check_scatter_gather(kBackend, what, input, output, size_);
    bool stage = needs_staging(input);
    torch::Tensor in = stage ? input.to(torch::kFloat) : input;
    torch::Tensor out = stage ? torch::empty(output.sizes(), in.options()) : output;
    auto finish = [output, out, op, n = size_]() mutable {
      if (op == ReduceOp::kAvg) detail::finish_avg(out, n);
      if (!out.is_same(output)) output.copy_(out);
    };
    MPI_Datatype type = reduce_type(in, what);
    return start(std::string(what) + "." + to_string(op), input, async, finish,
                 {input, output, in, out}, [&](MPI_Request* req) {
                   return MPI_Ireduce_scatter_block(in.data_ptr(), out.data_ptr(),
                                                    to_int(out.numel(), what), type, mpi_op(op),
                                                    comm_, req);
                 });
  }

  WorkPtr all_gather(const torch::Tensor& input, torch::Tensor& output, bool async) override {
    const char* what = "all_gather";
    check_cpu(what, input, "input");
    check_cpu(what, output, "output");
    detail::check_scatter_gather(kBackend, what, output, input, size_);
    MPI_Datatype type = mpi_type(input.scalar_type(), what);
    int n = to_int(input.numel(), what);
    return start(what, input, async, nullptr, {input, output}, [&](MPI_Request* req) {
      return MPI_Iallgather(input.data_ptr(), n, type, output.data_ptr(), n, type, comm_, req);
    });
  }

  WorkPtr all_to_all_v(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                       torch::Tensor& output, const std::vector<int64_t>& recv_counts,
                       bool async) override {
    const char* what = "all_to_all_v";
    detail::check_all_to_all(kBackend, input, send_counts, output, recv_counts, size_);
    check_cpu(what, input, "input");
    check_cpu(what, output, "output");
    int64_t row = detail::row_numel(input);
    auto to_elems = [&](const std::vector<int64_t>& counts, std::vector<int>& c,
                        std::vector<int>& displ) {
      int64_t offset = 0;
      for (int64_t rows : counts) {
        c.push_back(to_int(rows * row, what));
        displ.push_back(to_int(offset, what));
        offset += rows * row;
      }
    };
    auto counts = std::make_shared<std::vector<std::vector<int>>>(4);
    to_elems(send_counts, (*counts)[0], (*counts)[1]);
    to_elems(recv_counts, (*counts)[2], (*counts)[3]);
    MPI_Datatype type = mpi_type(input.scalar_type(), what);
    // Zero-row tensors may have a null data pointer; MPI wants a valid address.
    static char dummy;
    void* in_ptr = input.numel() ? input.data_ptr() : &dummy;
    void* out_ptr = output.numel() ? output.data_ptr() : &dummy;
    // The count arrays must outlive the request: the finish step holds them.
    return start(
        what, input, async, [counts] {}, {input, output},
        [&](MPI_Request* req) {
          auto& c = *counts;
          return MPI_Ialltoallv(in_ptr, c[0].data(), c[1].data(), type, out_ptr, c[2].data(),
                                c[3].data(), type, comm_, req);
        });
  }

  WorkPtr broadcast(torch::Tensor& tensor, int root, bool async) override {
    const char* what = "broadcast";
    check_cpu(what, tensor, "input");
    detail::check_rank_arg(kBackend, what, "root", root, size_);
    MPI_Datatype type = mpi_type(tensor.scalar_type(), what);
    return start(what, tensor, async, nullptr, {tensor}, [&](MPI_Request* req) {
      return MPI_Ibcast(tensor.data_ptr(), to_int(tensor.numel(), what), type, root, comm_, req);
    });
  }

  WorkPtr send(const torch::Tensor& tensor, int peer, int tag) override {
    check_cpu("send", tensor, "input");
    detail::check_rank_arg(kBackend, "send", "peer", peer, size_);
    MPI_Datatype type = mpi_type(tensor.scalar_type(), "send");
    return start("send", tensor, true, nullptr, {tensor}, [&](MPI_Request* req) {
      return MPI_Isend(tensor.data_ptr(), to_int(tensor.numel(), "send"), type, peer, tag, comm_,
                       req);
    });
  }

  WorkPtr recv(torch::Tensor& tensor, int peer, int tag) override {
    check_cpu("recv", tensor, "output");
    detail::check_rank_arg(kBackend, "recv", "peer", peer, size_);
    MPI_Datatype type = mpi_type(tensor.scalar_type(), "recv");
    return start("recv", tensor, true, nullptr, {tensor}, [&](MPI_Request* req) {
      return MPI_Irecv(tensor.data_ptr(), to_int(tensor.numel(), "recv"), type, peer, tag, comm_,
                       req);
    });
  }

  void barrier() override {
    start("barrier", torch::Tensor(), false, nullptr, {},
          [&](MPI_Request* req) { return MPI_Ibarrier(comm_, req); });
  }

  CommunicatorPtr split(const std::vector<int>& ranks, const std::string& name) override {
    detail::check_split_ranks(kBackend, ranks, size_);
    int color = MPI_UNDEFINED, key = 0;
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] == rank_) color = 0, key = static_cast<int>(i);
    }
    detail::OpRecord record(recorder_, "split", name_, ++seq_, 0);
    MPI_Comm child = MPI_COMM_NULL;
    {
      MpiLock mpi;
      check_mpi(MPI_Comm_split(comm_, color, key, &child), "MPI_Comm_split", name_);
    }
    record.end();
    if (child == MPI_COMM_NULL) return nullptr;
    auto comm = std::make_shared<MpiCommunicator>(child, name, true);
    comm->set_recorder(recorder_);
    return comm;
  }

  void abort(const std::string& reason) override {
    std::fprintf(stderr, "[rank %d] backend mpi: aborting group %s: %s\n", rank_, name_.c_str(),
                 reason.c_str());
    std::fflush(stderr);
    MPI_Abort(comm_, 1);
  }

 private:
  void check_cpu(const char* op, const torch::Tensor& t, const char* what) const {
    detail::check_tensor(kBackend, op, t, what);
    if (!t.device().is_cpu()) {
      detail::unsupported(
          kBackend, ::seller::detail::concat(
                        op, " of ", c10::DeviceTypeName(t.device().type(), true), " tensors"));
    }
  }

  MPI_Datatype reduce_type(const torch::Tensor& buf, const char* op) const {
    if (buf.scalar_type() == torch::kBool) {
      detail::unsupported(kBackend, ::seller::detail::concat(op, " of bool tensors"));
    }
    return mpi_type(buf.scalar_type(), op);
  }

  WorkPtr start(const std::string& op, const torch::Tensor& bytes_of, bool async,
                std::function<void()> finish, std::vector<torch::Tensor> keep_alive,
                const std::function<int(MPI_Request*)>& call) {
    detail::OpRecord record(recorder_, op, name_, ++seq_, detail::tensor_bytes(bytes_of));
    MPI_Request request = MPI_REQUEST_NULL;
    {
      MpiLock mpi;
      check_mpi(call(&request), op.c_str(), name_);
    }
    auto work = std::make_shared<MpiWork>(request, std::move(finish), std::move(record),
                                          std::move(keep_alive), name_);
    if (!async) work->wait();
    return work;
  }

  MPI_Comm comm_;
  std::string name_;
  bool owned_;
  int rank_ = 0;
  int size_ = 1;
  std::atomic<uint64_t> seq_{0};
};

void finalize_at_exit() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

}  // namespace

void mpi_ensure_initialized() {
  std::lock_guard<std::mutex> lock(g_mpi_mu);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = MPI_THREAD_SINGLE;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread",
              "world");
    std::atexit(finalize_at_exit);
  }
  if (g_thread_level < 0) MPI_Query_thread(&g_thread_level);
}

int mpi_thread_level() {
  mpi_ensure_initialized();
  return g_thread_level;
}

CommunicatorPtr make_mpi_world() {
  mpi_ensure_initialized();
  MPI_Comm dup = MPI_COMM_NULL;
  {
    MpiLock mpi;
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &dup), "MPI_Comm_dup", "world");
  }
  return std::make_shared<MpiCommunicator>(dup, "world", true);
}

CommunicatorPtr make_mpi_communicator(MPI_Comm comm, std::string name, bool owned) {
  mpi_ensure_initialized();
  return std::make_shared<MpiCommunicator>(comm, std::move(name), owned);
}

}  // namespace seller::dist
