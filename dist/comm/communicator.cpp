// Shared pieces of the Communicator backends: ReduceOp names and the argument checks of
// comm_checks.h (one wording for every backend).
#include "dist/comm/communicator.h"

#include <algorithm>
#include <numeric>

#include "dist/comm/comm_checks.h"
#include "dist/watchdog/flight_recorder.h"
#include "trainer/core/error.h"

namespace seller::dist {

const char* to_string(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum:
      return "sum";
    case ReduceOp::kAvg:
      return "avg";
    case ReduceOp::kMax:
      return "max";
    case ReduceOp::kMin:
      return "min";
  }
  return "unknown";
}

namespace detail {

int64_t tensor_bytes(const torch::Tensor& t) {
  return t.defined() ? static_cast<int64_t>(t.numel() * t.element_size()) : 0;
}

int64_t row_numel(const torch::Tensor& t) {
  int64_t n = 1;
  for (int64_t d = 1; d < t.dim(); ++d) n *= t.size(d);
  return n;
}

void check_tensor(const std::string& backend, const char* op, const torch::Tensor& t,
                  const char* what) {
  SELLER_THROW_IF_NOT(t.defined(), Error, "backend ", backend, ": ", op, ": ", what,
                      " tensor is undefined");
  SELLER_THROW_IF_NOT(t.is_contiguous(), Error, "backend ", backend, ": ", op, ": ", what,
                      " tensor must be contiguous (shape ", t.sizes(), ", strides ", t.strides(),
                      ")");
}

void check_same_dtype(const std::string& backend, const char* op, const torch::Tensor& a,
                      const torch::Tensor& b) {
  SELLER_THROW_IF_NOT(a.scalar_type() == b.scalar_type(), Error, "backend ", backend, ": ", op,
                      ": input dtype ", a.scalar_type(), " differs from output dtype ",
                      b.scalar_type());
  SELLER_THROW_IF_NOT(a.device() == b.device(), Error, "backend ", backend, ": ", op, ": input on ",
                      a.device(), " but output on ", b.device());
}

void check_rank_arg(const std::string& backend, const char* op, const char* what, int r, int size) {
  SELLER_THROW_IF_NOT(r >= 0 && r < size, Error, "backend ", backend, ": ", op, ": ", what, " = ",
                      r, " is not a rank of a communicator of size ", size);
}

void check_scatter_gather(const std::string& backend, const char* op, const torch::Tensor& big,
                          const torch::Tensor& small, int size) {
  check_same_dtype(backend, op, big, small);
  bool ok = big.dim() >= 1 && small.dim() == big.dim() && big.size(0) == small.size(0) * size;
  for (int64_t d = 1; ok && d < big.dim(); ++d) ok = big.size(d) == small.size(d);
  SELLER_THROW_IF_NOT(ok, Error, "backend ", backend, ": ", op, ": the large tensor ", big.sizes(),
                      " must be the small one ", small.sizes(), " with its first",
                      " dimension times the communicator size ", size);
}

void check_all_to_all(const std::string& backend, const torch::Tensor& input,
                      const std::vector<int64_t>& send_counts, const torch::Tensor& output,
                      const std::vector<int64_t>& recv_counts, int size) {
  const char* op = "all_to_all_v";
  check_tensor(backend, op, input, "input");
  check_tensor(backend, op, output, "output");
  check_same_dtype(backend, op, input, output);
  SELLER_THROW_IF_NOT(
      static_cast<int>(send_counts.size()) == size && static_cast<int>(recv_counts.size()) == size,
      Error, "backend ", backend, ": all_to_all_v: send_counts has ", send_counts.size(),
      " and recv_counts ", recv_counts.size(), " entries; both need one per rank (", size, ")");
  auto nonneg = [](int64_t c) { return c >= 0; };
  SELLER_THROW_IF_NOT(std::all_of(send_counts.begin(), send_counts.end(), nonneg) &&
                          std::all_of(recv_counts.begin(), recv_counts.end(), nonneg),
                      Error, "backend ", backend, ": all_to_all_v: negative count");
  SELLER_THROW_IF_NOT(input.dim() >= 1 && output.dim() == input.dim(), Error, "backend ", backend,
                      ": all_to_all_v: input ", input.sizes(), " and output ", output.sizes(),
                      " need the same number (>= 1) of dimensions");
  for (int64_t d = 1; d < input.dim(); ++d) {
    SELLER_THROW_IF_NOT(input.size(d) == output.size(d), Error, "backend ", backend,
                        ": all_to_all_v: trailing dimensions of input ", input.sizes(),
                        " and output ", output.sizes(), " differ");
  }
  int64_t sends = std::accumulate(send_counts.begin(), send_counts.end(), int64_t{0});
  int64_t recvs = std::accumulate(recv_counts.begin(), recv_counts.end(), int64_t{0});
  SELLER_THROW_IF_NOT(sends == input.size(0), Error, "backend ", backend,
                      ": all_to_all_v: send_counts sum to ", sends, " but input has ",
                      input.size(0), " rows");
  SELLER_THROW_IF_NOT(recvs == output.size(0), Error, "backend ", backend,
                      ": all_to_all_v: recv_counts sum to ", recvs, " but output has ",
                      output.size(0), " rows");
}

void check_split_ranks(const std::string& backend, const std::vector<int>& ranks, int size) {
  SELLER_THROW_IF_NOT(!ranks.empty(), Error, "backend ", backend, ": split: empty rank list");
  std::vector<int> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    check_rank_arg(backend, "split", "rank", sorted[i], size);
    SELLER_THROW_IF_NOT(i == 0 || sorted[i] != sorted[i - 1], Error, "backend ", backend,
                        ": split: rank ", sorted[i], " listed twice");
  }
}

void unsupported(const std::string& backend, const std::string& what) {
  throw Error(::seller::detail::concat("backend ", backend, " does not support ", what));
}

void finish_avg(torch::Tensor& summed, int size) {
  if (at::isIntegralType(summed.scalar_type(), /*includeBool=*/true)) {
    summed.div_(size, "trunc");
  } else {
    summed.div_(size);
  }
}

OpRecord::OpRecord(std::shared_ptr<FlightRecorder> recorder, std::string op,
                   const std::string& group, uint64_t seq, int64_t bytes)
    : recorder_(std::move(recorder)) {
  if (recorder_ != nullptr) id_ = recorder_->begin(std::move(op), group, seq, bytes);
}

void OpRecord::end() {
  if (recorder_ != nullptr) recorder_->end(id_);
  recorder_ = nullptr;
}

}  // namespace detail
}  // namespace seller::dist
