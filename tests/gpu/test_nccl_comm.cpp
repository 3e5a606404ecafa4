// NCCL communicator on 2 and (where present) 4 GPUs, one thread per GPU with its own
// ncclCommInitRank (ids handed over by MemoryBootstrap): every operation against the expectation
// computed on the CPU from all ranks' inputs, async handles, split groups and the refusal of CPU
// tensors; and that the harness's watchdog (tests/gpu/nccl_threads.h) turns a hang inside a split
// group into a test failure. Skips with a printed reason without NCCL or with fewer than 2 GPUs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "dist/comm/communicator.h"
#include "trainer/core/error.h"

#if SELLER_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <chrono>
#include <string>

#include "dist/comm/nccl_communicator.h"
#include "tests/gpu/nccl_threads.h"
#endif

namespace seller::dist {
namespace {

#if SELLER_HAVE_NCCL

using gpu_test::gpus;

// Runs body(comm) on n threads, thread r driving GPU r, under the harness's watchdog;
// rethrows the first failure.
void run_gpus(int n, const std::function<void(Communicator&)>& body) {
  gpu_test::run_nccl_threads(n, "nccl comm, " + std::to_string(n) + " GPUs",
                             [&](const CommunicatorPtr& comm, torch::Device) { body(*comm); });
}

torch::Tensor input_of(int r, std::vector<int64_t> shape, torch::ScalarType dtype) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1000 + r);
  return (torch::randn(shape, gen, torch::kFloat64) * 10).to(dtype);
}

torch::Tensor oracle(int n, std::vector<int64_t> shape, torch::ScalarType dtype, ReduceOp op) {
  torch::Tensor acc = input_of(0, shape, dtype).to(torch::kDouble);
  for (int r = 1; r < n; ++r) {
    torch::Tensor x = input_of(r, shape, dtype).to(torch::kDouble);
    if (op == ReduceOp::kSum || op == ReduceOp::kAvg) acc = acc + x;
    if (op == ReduceOp::kMax) acc = torch::maximum(acc, x);
    if (op == ReduceOp::kMin) acc = torch::minimum(acc, x);
  }
  if (op == ReduceOp::kAvg) {
    acc = at::isIntegralType(dtype, false) ? acc.div(n, "trunc") : acc.div(n);
  }
  return acc;
}

class NcclComm : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (gpus() < GetParam()) {
      GTEST_SKIP() << "needs " << GetParam() << " GPUs, found " << gpus();
    }
  }
};

TEST_P(NcclComm, EveryOperationMatchesCpuExpectation) {
  const int n = GetParam();
  run_gpus(n, [n](Communicator& comm) {
    const int me = comm.rank();
    auto cuda = torch::TensorOptions().device(torch::kCUDA, me);
    for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kInt64}) {
      for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kAvg, ReduceOp::kMax, ReduceOp::kMin}) {
        torch::Tensor t = input_of(me, {1000, 3}, dtype).to(cuda.device());
        comm.all_reduce(t, op);
        // bf16: NCCL rounds every partial sum (order chosen by its algorithm) to 8 mantissa
        // bits; inputs are ~N(0, 10), so partial sums stay below 128 where half an ulp is 0.25:
        // n - 1 additions and the final rounding bound the error by 0.25 * n.
        const bool bf16 = dtype == torch::kBFloat16;
        const double rtol = bf16 ? 1e-2 : 1e-5, atol = bf16 ? 0.25 * n : 1e-5;
        EXPECT_TRUE(torch::allclose(t.cpu().to(torch::kDouble), oracle(n, {1000, 3}, dtype, op),
                                    rtol, atol))
            << "all_reduce " << to_string(op) << " " << dtype;
      }
    }
    torch::Tensor in = input_of(me, {n * 8, 2}, torch::kFloat32).to(cuda.device());
    torch::Tensor out = torch::empty({8, 2}, cuda);
    comm.reduce_scatter(in, out, ReduceOp::kSum);
    EXPECT_TRUE(torch::allclose(
        out.cpu().to(torch::kDouble),
        oracle(n, {n * 8, 2}, torch::kFloat32, ReduceOp::kSum).narrow(0, 8 * me, 8), 1e-5, 1e-5));
    torch::Tensor all = torch::empty({n * 8, 2}, cuda);
    comm.all_gather(out, all, /*async=*/true)->wait();
    EXPECT_TRUE(torch::allclose(all.cpu().to(torch::kDouble),
                                oracle(n, {n * 8, 2}, torch::kFloat32, ReduceOp::kSum), 1e-5,
                                1e-5));
    torch::Tensor b =
        me == 0 ? input_of(5, {17}, torch::kFloat32).to(cuda.device()) : torch::zeros({17}, cuda);
    comm.broadcast(b, 0);
    EXPECT_TRUE(torch::equal(b.cpu(), input_of(5, {17}, torch::kFloat32)));
  });
}

int64_t count(int src, int dst, int n) { return src == n - 1 ? 0 : (src * 3 + dst * 5) % 4; }

TEST_P(NcclComm, AllToAllVSendRecvSplitAndAsync) {
  const int n = GetParam();
  run_gpus(n, [n](Communicator& comm) {
    const int me = comm.rank();
    auto cuda = torch::TensorOptions().device(torch::kCUDA, me);
    std::vector<int64_t> send(n), recv(n);
    std::vector<torch::Tensor> rows, expected;
    for (int d = 0; d < n; ++d) {
      send[d] = count(me, d, n);
      recv[d] = count(d, me, n);
      for (int64_t j = 0; j < send[d]; ++j)
        rows.push_back(torch::tensor({float(me), float(d), float(j)}));
      for (int64_t j = 0; j < recv[d]; ++j)
        expected.push_back(torch::tensor({float(d), float(me), float(j)}));
    }
    torch::Tensor in = (rows.empty() ? torch::empty({0, 3}) : torch::stack(rows)).to(cuda.device());
    torch::Tensor want = expected.empty() ? torch::empty({0, 3}) : torch::stack(expected);
    torch::Tensor out = torch::full({want.size(0), 3}, -1.0f, cuda);
    comm.all_to_all_v(in, send, out, recv);
    EXPECT_TRUE(torch::equal(out.cpu(), want)) << "rank " << me;

    // Ring: even ranks send first, odd ranks receive first (NCCL sends may wait for the recv).
    torch::Tensor mine = torch::full({4096}, float(me), cuda);
    torch::Tensor got = torch::empty({4096}, cuda);
    int next = (me + 1) % n, prev = (me + n - 1) % n;
    if (me % 2 == 0) {
      comm.send(mine, next)->wait();
      comm.recv(got, prev)->wait();
    } else {
      comm.recv(got, prev)->wait();
      comm.send(mine, next)->wait();
    }
    EXPECT_TRUE(torch::equal(got.cpu(), torch::full({4096}, float(prev))));

    std::vector<torch::Tensor> ts;
    std::vector<WorkPtr> works;
    for (int i = 0; i < 4; ++i) {
      ts.push_back(torch::full({1 << 20}, float(me + i), cuda));
      works.push_back(comm.all_reduce(ts.back(), ReduceOp::kAvg, /*async=*/true));
    }
    for (auto& w : works) w->wait();
    for (int i = 0; i < 4; ++i) {
      EXPECT_TRUE(torch::allclose(ts[i].cpu(), torch::full({1 << 20}, float((n - 1) / 2.0 + i))));
    }

    std::vector<int> reversed;
    for (int r = n - 1; r >= 0; --r) reversed.push_back(r);
    auto rev = comm.split(reversed, "rev");
    ASSERT_NE(rev, nullptr);
    EXPECT_EQ(rev->rank(), n - 1 - me);
    torch::Tensor g =
        torch::empty({n}, torch::TensorOptions().dtype(torch::kLong).device(cuda.device()));
    rev->all_gather(torch::tensor({int64_t(me)}).to(cuda.device()), g);
    for (int i = 0; i < n; ++i) EXPECT_EQ(g[i].item<int64_t>(), n - 1 - i);

    torch::Tensor cpu = torch::ones({4});
    try {
      comm.all_reduce(cpu);
      ADD_FAILURE() << "no error for a CPU tensor";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "backend nccl does not support all_reduce of cpu tensors");
    }
    comm.barrier();
  });
}

INSTANTIATE_TEST_SUITE_P(Gpus, NcclComm, ::testing::Values(2, 4));

// Rank 1 never joins an all_reduce on a split group while rank 0 waits for it (on the host: in
// the NCCL call itself, which on a fresh communicator connects to the peer first, or in the
// item() after it): the watchdog must fire after the (short) case timeout, abort every communicator
// of both ranks (the split group included: aborting only the world would leave rank 0 blocked) and
// make the harness throw, instead of hanging the test binary.
TEST(NcclCommWatchdog, HangInASplitGroupFailsInsteadOfHanging) {
  if (gpus() < 2) GTEST_SKIP() << "needs 2 GPUs, found " << gpus();
  using namespace std::chrono_literals;
  const auto timeout = 3s;
  const auto start = std::chrono::steady_clock::now();
  try {
    gpu_test::run_nccl_threads(
        2, "planted hang",
        [&](const CommunicatorPtr& world, torch::Device device) {
          auto pair = world->split({1, 0}, "pair");
          if (world->rank() == 1) {
            // Skips the pair all_reduce; returns once the watchdog has aborted everything.
            std::this_thread::sleep_for(timeout + 2s);
            return;
          }
          torch::Tensor t = torch::ones({1 << 16}, torch::TensorOptions().device(device));
          pair->all_reduce(t);
          (void)t.sum().item<float>();  // the host waits for the all_reduce
          pair->all_reduce(t);          // after the abort: throws
          ADD_FAILURE() << "an aborted communicator accepted an operation";
        },
        timeout, /*grace=*/20s);
    ADD_FAILURE() << "the planted hang did not fail";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("exceeded the case timeout of 3 s"), std::string::npos) << what;
    EXPECT_NE(what.find("aborted"), std::string::npos) << what;
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(s, 20.0) << "the hang was released only after " << s << " s";
}

#else

TEST(NcclComm, Skipped) { GTEST_SKIP() << "built without NCCL (SELLER_HAVE_NCCL=0)"; }

#endif

}  // namespace
}  // namespace seller::dist
