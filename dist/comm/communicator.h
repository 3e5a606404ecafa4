// The one communication interface of seller: collectives and point-to-point transfers over a
// group of ranks, with three backends (inproc threads for unit tests, MPI for CPU tensors, NCCL
// for CUDA tensors). Layers receive Communicators as values (ProcessGroups), never from globals.
//
// Invariants every backend keeps:
//  - Every rank of a communicator issues the same collectives in the same order (as in NCCL and
//    MPI); a rank that has nothing to contribute (zero tokens) still joins with empty counts.
//  - Tensors are contiguous, of the same dtype on every rank and (NCCL) on the current CUDA
//    device; the backend checks and throws seller::Error naming the operation and the problem.
//  - async = false returns after the operation finished (NCCL: after it was enqueued on the
//    current stream, which then orders later kernels); async = true returns at once and the
//    caller must keep the tensors alive and call Work::wait() before reading the results.
//  - An operation a backend lacks throws seller::Error naming both, e.g.
//    "backend mpi does not support send of cuda tensors"; nothing silently does nothing.
//  - Each communicator numbers its operations (seq = 1, 2, ...) and, when a FlightRecorder is
//    installed, records each one (op, group, seq, bytes, start, done) for the watchdog.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

namespace seller::dist {

class FlightRecorder;  // dist/watchdog/flight_recorder.h

enum class ReduceOp { kSum, kAvg, kMax, kMin };

// "sum", "avg", "max", "min".
const char* to_string(ReduceOp op);

// Handle of an asynchronous operation.
class Work {
 public:
  virtual ~Work() = default;
  // Blocks until done (NCCL: makes the current stream wait on the operation); rethrows a failure.
  virtual void wait() = 0;
  // Non-blocking poll; true once the results may be read without waiting (NCCL: on the device).
  virtual bool is_completed() = 0;
};
using WorkPtr = std::shared_ptr<Work>;

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& backend() const = 0;  // "inproc" | "mpi" | "nccl"
  virtual const std::string& name() const = 0;     // group name: "world", "tp", "ep", "dp", "edp"

  // In place; kAvg divides the sum by size() (integer tensors: truncating division).
  virtual WorkPtr all_reduce(torch::Tensor& tensor, ReduceOp op = ReduceOp::kSum,
                             bool async = false) = 0;
  // input [size*n, ...] -> output [n, ...]: rank r receives the reduction of rows [r*n, (r+1)*n).
  virtual WorkPtr reduce_scatter(const torch::Tensor& input, torch::Tensor& output,
                                 ReduceOp op = ReduceOp::kSum, bool async = false) = 0;
  // input [n, ...] -> output [size*n, ...] in rank order.
  virtual WorkPtr all_gather(const torch::Tensor& input, torch::Tensor& output,
                             bool async = false) = 0;
  // Rows (first dimension) of input: the first send_counts[0] go to rank 0, the next
  // send_counts[1] to rank 1, ...; output receives recv_counts[r] rows from rank r, in rank
  // order. Zero counts are allowed; both vectors have size() entries; the trailing dimensions of
  // input and output agree; sum(send_counts) == input.size(0), sum(recv_counts) == output.size(0).
  virtual WorkPtr all_to_all_v(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                               torch::Tensor& output, const std::vector<int64_t>& recv_counts,
                               bool async = false) = 0;
  // In place; root is a rank of this communicator.
  virtual WorkPtr broadcast(torch::Tensor& tensor, int root, bool async = false) = 0;
  // Point-to-point, always asynchronous: wait() on the handle before reusing (send) or reading
  // (recv) the tensor. Messages between a pair of ranks with equal tag arrive in order.
  virtual WorkPtr send(const torch::Tensor& tensor, int peer, int tag = 0) = 0;
  virtual WorkPtr recv(torch::Tensor& tensor, int peer, int tag = 0) = 0;
  virtual void barrier() = 0;
  // Collective over ALL ranks of this communicator: a new communicator over `ranks` (ranks of
  // this one, listed in the new rank order) named `name`; ranks not listed get nullptr. The new
  // communicator shares this one's FlightRecorder.
  virtual std::shared_ptr<Communicator> split(const std::vector<int>& ranks,
                                              const std::string& name) = 0;
  // Makes every pending and later operation of this communicator (and of the communicators of
  // the same world, where the backend can) fail instead of hang; used by the watchdog's abort
  // handler. Not collective; safe to call from any thread.
  virtual void abort(const std::string& reason) = 0;

  // The flight recorder this rank's operations are written to (nullptr: none). Set it before
  // the first operation; split() passes it on.
  void set_recorder(std::shared_ptr<FlightRecorder> recorder) { recorder_ = std::move(recorder); }
  const std::shared_ptr<FlightRecorder>& recorder() const { return recorder_; }

 protected:
  std::shared_ptr<FlightRecorder> recorder_;
};

using CommunicatorPtr = std::shared_ptr<Communicator>;

}  // namespace seller::dist
