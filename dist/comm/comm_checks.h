// Argument checks and small pieces shared by the Communicator backends: each check throws
// seller::Error naming the backend, the operation and the offending value, so a wrong call reads
// the same on every backend. Also the Work that is already complete and the recording helper.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist::detail {

int64_t tensor_bytes(const torch::Tensor& t);
// Elements of one row (product of the trailing dimensions; 1 for a 1-d tensor).
int64_t row_numel(const torch::Tensor& t);

void check_tensor(const std::string& backend, const char* op, const torch::Tensor& t,
                  const char* what);
void check_same_dtype(const std::string& backend, const char* op, const torch::Tensor& a,
                      const torch::Tensor& b);
void check_rank_arg(const std::string& backend, const char* op, const char* what, int r, int size);
// output.numel() * size == input.numel(), first dims in that ratio, trailing dims equal.
void check_scatter_gather(const std::string& backend, const char* op, const torch::Tensor& big,
                          const torch::Tensor& small, int size);
void check_all_to_all(const std::string& backend, const torch::Tensor& input,
                      const std::vector<int64_t>& send_counts, const torch::Tensor& output,
                      const std::vector<int64_t>& recv_counts, int size);
// ranks: distinct, in [0, size), non-empty.
void check_split_ranks(const std::string& backend, const std::vector<int>& ranks, int size);

[[noreturn]] void unsupported(const std::string& backend, const std::string& what);

// Applies kAvg's division to a summed tensor (integer tensors: truncating).
void finish_avg(torch::Tensor& summed, int size);

class DoneWork : public Work {
 public:
  void wait() override {}
  bool is_completed() override { return true; }
};

// Records one operation in a (possibly absent) FlightRecorder; end() marks it done.
class OpRecord {
 public:
  OpRecord() = default;
  OpRecord(std::shared_ptr<FlightRecorder> recorder, std::string op, const std::string& group,
           uint64_t seq, int64_t bytes);
  void end();

 private:
  std::shared_ptr<FlightRecorder> recorder_;
  uint64_t id_ = 0;
};

}  // namespace seller::dist::detail
