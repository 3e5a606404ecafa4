// GPU smoke tests (ctest label `gpu`): LibTorch sees the GPU and computes what the CPU computes,
// and NCCL initialises a communicator and all-reduces on it. They prove the GPU build of the
// same CMakeLists that CI builds without a GPU; on a machine without one they skip with a reason.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/generate/generator.h"
#include "trainer/model/llm/decoder.h"

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

// CUDA-graph replay of the static decode step gives the tokens of plain eager decoding.
TEST(GpuSmoke, CudaGraphDecodingEqualsEager) {
  SKIP_WITHOUT_CUDA();
  seller::model::DecoderConfig c;
  c.vocab_size = 300;
  c.hidden_size = 128;
  c.intermediate_size = 256;
  c.num_layers = 3;
  c.num_heads = 8;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  seller::model::Decoder d(c);
  seller::model::init_decoder_weights(d, 0.3, 4);
  d->to(torch::kCUDA, torch::kFloat32);
  std::vector<seller::generate::GenerationRequest> reqs = {
      {{1, 5, 9, 33, 7}, {}}, {{2}, {}}, {{100, 200, 250}, {}}};
  seller::generate::SamplingOptions eager;
  eager.max_new_tokens = 40;
  eager.static_decode = false;
  auto graph_opts = eager;
  graph_opts.static_decode = true;
  graph_opts.cuda_graph = true;
  auto a = seller::generate::generate(d, reqs, eager);
  auto b = seller::generate::generate(d, reqs, graph_opts);
  auto replayed = seller::generate::generate(d, reqs, graph_opts);  // pooled graph, no capture
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << "row " << i;
    EXPECT_EQ(a[i].tokens, replayed[i].tokens) << "row " << i;
  }
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
