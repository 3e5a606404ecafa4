// Parallel-layer equivalence over the NCCL backend on 2 and (where present) 4 GPUs, one thread
// per GPU (tests/gpu/nccl_threads.h): the TP decoder, the EP MoE layer (incl. a rank with zero
// tokens), data parallel + ZeRO-1 AdamW over several steps and, on 4 GPUs, dp2 x tp2 and
// dp2 x ep2, each against the single-process run of the same seeds (the cases of
// tests/dist/parallel_cases.h and parallel_training_cases.h, which the MPI driver runs on CPUs).
//
// The single-process reference is computed once per GPU, on that GPU, by this thread before
// the rank threads start (per_gpu below), and rank r reads only its own GPU's copy. An earlier
// version built it once on GPU 0 and let every rank read it there: rank r's copies from GPU 0
// (weights, inputs, the reference gradients it compares with) were issued on GPU 0's default
// stream, which rank 0's collectives had made wait for their completion, so whenever rank 0 ran
// one collective ahead, rank r's copy waited for a collective that rank r itself had not yet
// joined: a deadlock (TP qk-norm variant, EP, dp2 x tp2, dp2 x ep2 hung on 4 H200s).
//
// fp32 with TF32 off everywhere (cuBLAS, cuDNN, matmul precision "highest"), so the differences
// are summation order only; tolerance kTol below. Rank 0 prints the largest difference measured
// per quantity ("[ MAXDIFF  ]" lines). Every case runs under a watchdog (nccl_threads.h): a hang
// prints each rank's pending collectives and fails the test after SELLER_NCCL_CASE_TIMEOUT_S
// (default 120 s). Skips with a printed reason without NCCL or with fewer GPUs than the case
// needs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "dist/comm/communicator.h"
#include "tests/dist/parallel_cases.h"
#include "tests/dist/parallel_training_cases.h"

#if SELLER_HAVE_NCCL
#include <ATen/Context.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>

#include "tests/gpu/nccl_threads.h"
#endif

namespace seller::dist {
namespace {

#if SELLER_HAVE_NCCL

using gpu_test::gpu;
using gpu_test::gpus;
using gpu_test::run_nccl_threads;

// Asserted bound for every quantity (fp32, TF32 off): 5x the CPU bound, because cuBLAS picks
// its reduction order (split-K) per shape, so the sharded matmuls sum in another order than the
// full ones; the measured maxima are printed.
constexpr double kTol = 5e-5;

// make(gpu(r)) for every r < n, each computed on GPU r from the same seeds, sequentially on
// this thread and finished (synchronised) before any rank thread starts: rank r then never
// touches another GPU (see the top of the file), and no reference's backward shares a device's
// autograd worker with a rank's backward.
template <class Make>
auto per_gpu(int n, const Make& make) {
  std::vector<decltype(make(gpu(0)))> refs;
  for (int r = 0; r < n; ++r) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(r));
    refs.push_back(make(gpu(r)));
    torch::cuda::synchronize(r);
  }
  return refs;
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
  }
};

TEST_P(NcclParallel, TpDecoderEqualsFullDecoder) {
  const int n = GetParam();
  for (bool variant : {false, true}) {
    const auto refs = per_gpu(n, [&](torch::Device d) { return cases::tp_reference(variant, d); });
    const std::string label = "tp" + std::to_string(n) + " decoder " +
                              (variant ? "untied+biases+qk-norm+eager" : "tied+GQA+padding+sdpa");
    SCOPED_TRACE(label);
    run_nccl_threads(n, label, [&](const CommunicatorPtr& world, torch::Device device) {
      cases::DiffLog log(kTol);
      cases::tp_case(world, refs[device.index()], device, log);
      log.report(*world, device, label);
    });
  }
}

TEST_P(NcclParallel, EpMoeEqualsSingleGpuOnTheUnionOfTokens) {
  const int n = GetParam();
  for (const auto& c : cases::ep_cases()) {
    SCOPED_TRACE(c.name);
    const auto refs = per_gpu(n, [&](torch::Device d) { return cases::ep_reference(c, n, d); });
    if (c.name == "tight_capacity") {
      ASSERT_GT(refs[0].stats.dropped, 0) << "the case must drop";
    }
    const std::string label = "ep" + std::to_string(n) + " moe " + c.name;
    run_nccl_threads(n, label, [&](const CommunicatorPtr& world, torch::Device device) {
      cases::DiffLog log(kTol);
      cases::ep_case(world, c, refs[device.index()], device, log);
      log.report(*world, device, label);
    });
  }
}

TEST_P(NcclParallel, DataParallelZeroAdamWEqualsSingleGpuOverSteps) {
  const int n = GetParam();
  const auto refs =
      per_gpu(n, [](torch::Device d) { return cases::train_reference(/*tp_layout=*/false, d); });
  const std::string label = "dp" + std::to_string(n) + " decoder + ZeRO-1 AdamW";
  run_nccl_threads(n, label, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp_zero_case(world, refs[device.index()], device, log);
    log.report(*world, device, label);
  });
}

TEST_P(NcclParallel, CombinedLayoutsOnFourGpus) {
  if (GetParam() != 4) GTEST_SKIP() << "dp2 x tp2 and dp2 x ep2 run in the 4-GPU instance";
  const auto dec_refs =
      per_gpu(4, [](torch::Device d) { return cases::train_reference(/*tp_layout=*/true, d); });
  const std::string dec_label = "dp2xtp2 decoder + ZeRO-1 over edp";
  run_nccl_threads(4, dec_label, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp2_tp2_case(world, dec_refs[device.index()], device, log);
    log.report(*world, device, dec_label);
  });
  const auto moe_refs = per_gpu(4, [](torch::Device d) { return cases::moe_train_reference(d); });
  const std::string moe_label = "dp2xep2 moe (rank 2 without tokens)";
  run_nccl_threads(4, moe_label, [&](const CommunicatorPtr& world, torch::Device device) {
    cases::DiffLog log(kTol);
    cases::dp2_ep2_case(world, moe_refs[device.index()], device, log);
    log.report(*world, device, moe_label);
  });
}

INSTANTIATE_TEST_SUITE_P(Gpus, NcclParallel, ::testing::Values(2, 4));

#else

TEST(NcclParallel, Skipped) { GTEST_SKIP() << "built without NCCL (SELLER_HAVE_NCCL=0)"; }

#endif

}  // namespace
}  // namespace seller::dist
