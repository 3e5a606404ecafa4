// GPU smoke tests (ctest label `gpu`): LibTorch sees the GPU and computes what the CPU computes,
// and NCCL initialises a communicator and all-reduces on it. They prove the GPU build of the
// same CMakeLists that CI builds without a GPU; on a machine without one they skip with a reason.
#include <gtest/gtest.h>
#include <torch/torch.h>

#if SELLER_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#endif

namespace {

#define SKIP_WITHOUT_CUDA()                                                          \
  if (!torch::cuda::is_available()) {                                                \
    GTEST_SKIP() << "no CUDA device visible to LibTorch (torch::cuda::is_available)"; \
  }

TEST(GpuSmoke, MatmulMatchesCpu) {
  SKIP_WITHOUT_CUDA();
  torch::manual_seed(0);
  auto a = torch::randn({256, 512}, torch::kFloat64);
  auto b = torch::randn({512, 128}, torch::kFloat64);
  auto reference = torch::matmul(a, b);
  auto gpu = torch::matmul(a.to(torch::kCUDA, torch::kFloat32), b.to(torch::kCUDA, torch::kFloat32))
                 .to(torch::kCPU, torch::kFloat64);
  // fp32 on tensor cores may use TF32 only when enabled; LibTorch's default keeps full fp32.
  EXPECT_LT((gpu - reference).abs().max().item<double>(), 1e-3);
  auto bf16 = torch::matmul(a.to(torch::kCUDA, torch::kBFloat16), b.to(torch::kCUDA, torch::kBFloat16))
                  .to(torch::kCPU, torch::kFloat64);
  double rel = ((bf16 - reference).norm() / reference.norm()).item<double>();
  EXPECT_LT(rel, 2e-2);
  EXPECT_GT(rel, 0.0);  // bf16 really is lower precision: the check is not vacuous
}

#if SELLER_HAVE_NCCL
TEST(GpuSmoke, NcclSingleRankAllReduce) {
  SKIP_WITHOUT_CUDA();
  int version = 0;
  ASSERT_EQ(ncclGetVersion(&version), ncclSuccess);
  std::printf("NCCL version %d\n", version);
  int dev = 0;
  ncclComm_t comm;
  ASSERT_EQ(ncclCommInitAll(&comm, 1, &dev), ncclSuccess);
  auto x = torch::arange(1024, torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA));
  auto expected = x.clone();
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(ncclAllReduce(x.data_ptr(), x.data_ptr(), x.numel(), ncclFloat, ncclSum, comm, stream),
            ncclSuccess);
  ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_TRUE(torch::equal(x, expected));  // one rank: the sum is the input
  cudaStreamDestroy(stream);
  ncclCommDestroy(comm);
}
#endif

}  // namespace
