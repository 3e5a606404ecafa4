// Parallel-layer equivalence over the NCCL backend on 2 and (where present) 4 GPUs, one thread
// per GPU (ids handed over by MemoryBootstrap): the TP decoder, the EP MoE layer (incl. a rank
// with zero tokens), data parallel + ZeRO-1 AdamW over several steps and, on 4 GPUs, dp2 x tp2
// and dp2 x ep2, each against the single-process run on GPU 0 (the cases of
// tests/dist/parallel_cases.h and parallel_training_cases.h, which the MPI driver runs on CPUs).
//
// fp32 with TF32 off everywhere (cuBLAS, cuDNN, matmul precision "highest"), so the differences
// are summation order only; tolerance kTol below. Rank 0 prints the largest difference measured
// per quantity ("[ MAXDIFF  ]" lines). Skips with a printed reason without NCCL or with fewer
// GPUs than the case needs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dist/comm/communicator.h"
#include "tests/dist/parallel_cases.h"
#include "tests/dist/parallel_training_cases.h"

#if SELLER_HAVE_NCCL
#include <ATen/Context.h>
#include <c10/cuda/CUDAFunctions.h>

#include "dist/comm/nccl_communicator.h"
#endif

namespace seller::dist {
namespace {

#if SELLER_HAVE_NCCL

// Asserted bound for every quantity (fp32, TF32 off): 5x the CPU bound, because cuBLAS picks
// its reduction order (split-K) per shape, so the sharded matmuls sum in another order than the
// full ones; the measured maxima are printed.
constexpr double kTol = 5e-5;

int gpus() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

torch::Device gpu(int r) { return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r)); }

// Runs body(world, device) on n threads, thread r driving GPU r. The first failure aborts every
// communicator already made (so the other threads leave their collectives) and is rethrown.
void run_gpus(int n, const std::function<void(const CommunicatorPtr&, torch::Device)>& body) {
  MemoryBootstrap boot;
  std::exception_ptr first;
  std::mutex mu;
  std::vector<CommunicatorPtr> comms(n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        c10::cuda::set_device(static_cast<c10::DeviceIndex>(r));
        auto comm = make_nccl_world(r, n, boot.fn(), r);
        {
          std::lock_guard<std::mutex> lock(mu);
          comms[r] = comm;
        }
        body(comm, gpu(r));
        torch::cuda::synchronize(r);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) first = std::current_exception();
        for (auto& c : comms)
          if (c) c->abort(std::string("rank ") + std::to_string(r) + " failed: " + e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

class NcclParallel : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (gpus() < GetParam()) {
      GTEST_SKIP() << "needs " << GetParam() << " CUDA devices, found " << gpus();
    }
    // Exact fp32 matmuls: TF32 would put differences of 1e-3 into every comparison.
    at::globalContext().setAllowTF32CuBLAS(false);
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setFloat32MatmulPrecision("highest");
    c10::cuda::set_device(0);  // the references run on GPU 0
  }
};

TEST_P(NcclParallel, TpDecoderEqualsFullDecoderOnGpu0) {
  const int n = GetParam();
  for (bool variant : {false, true}) {
    const auto ref = cases::tp_reference(variant, gpu(0));
    const std::string label = "tp" + std::to_string(n) + " decoder " +
                              (variant ? "untied+biases+qk-norm+eager" : "tied+GQA+padding+sdpa");
    run_gpus(n, [&](const CommunicatorPtr& world, torch::Device device) {
      cases::DiffLog log(kTol);
      cases::tp_case(world, ref, device, log);
      log.report(*world, device, label);
    });
  }
}

TEST_P(NcclParallel, EpMoeEqualsSingleGpuOnTheUnionOfTokens) {
  const int n = GetParam();
  for (const auto& c : cases::ep_cases()) {
    SCOPED_TRACE(c.name);
    const auto ref = cases::ep_reference(c, n, gpu(0));
    if (c.name == "tight_capacity") {
      ASSERT_GT(ref.stats.dropped, 0) << "the case must drop";
    }
    const std::string label = "ep" + std::to_string(n) + " moe " + c.name;
    run_gpus(n, [&](const CommunicatorPtr& world, torch::Device device) {
      cases::DiffLog log(kTol);
      cases::ep_case(world, c, ref, device, log);
      log.report(*world, device, label);
    });
  }
}

TEST_P(NcclParallel, DataParallelZeroAdamWEqualsSingleGpuOverSteps) {
  const int n = GetParam();
  const auto ref = cases::train_reference(/*tp_layout=*/false, gpu(0));
  const std::string label = "dp" + std::to_string(n) + " decoder + ZeRO-1 AdamW";
  run_gpus(n, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp_zero_case(world, ref, device, log);
    log.report(*world, device, label);
  });
}

TEST_P(NcclParallel, CombinedLayoutsOnFourGpus) {
  if (GetParam() != 4) GTEST_SKIP() << "dp2 x tp2 and dp2 x ep2 run in the 4-GPU instance";
  const auto dec_ref = cases::train_reference(/*tp_layout=*/true, gpu(0));
  run_gpus(4, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp2_tp2_case(world, dec_ref, device, log);
    log.report(*world, device, "dp2xtp2 decoder + ZeRO-1 over edp");
  });
  c10::cuda::set_device(0);
  const auto moe_ref = cases::moe_train_reference(gpu(0));
  run_gpus(4, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp2_ep2_case(world, moe_ref, device, log);
    log.report(*world, device, "dp2xep2 moe (rank 2 without tokens)");
  });
}

INSTANTIATE_TEST_SUITE_P(Gpus, NcclParallel, ::testing::Values(2, 4));

#else

TEST(NcclParallel, Skipped) { GTEST_SKIP() << "built without NCCL (SELLER_HAVE_NCCL=0)"; }

#endif

}  // namespace
}  // namespace seller::dist
