// The training step of `seller train` on one GPU never makes the host wait for the GPU: batch
// copy, forward under bf16 autocast (MoE adapter with the dense dispatch, capacity drops on),
// backward, global-norm clipping and the fused AdamW update run under CUDA's sync-debug mode
// set to "error", which throws from any operation that synchronises the host with the device
// (torch.cuda.set_sync_debug_mode in Python). Why it matters: with data-parallel ranks, a host
// that waits for its GPU each step also waits for the slowest rank's gradients, and the jitter
// of every rank adds up (docs/benchmarks.md). A negative control runs the same step with the
// sorted MoE dispatch, whose expert counts are read on the host, and expects the mode to catch it
// (so the check is not vacuous). The MoE statistics, left on the device, settle afterwards to
// the routed count.
#include <c10/cuda/CUDAFunctions.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "dist/ddp/grad_clip.h"
#include "tests/model/seller_fixture.h"
#include "trainer/train/fused_adamw.h"
#include "trainer/train/train_progress.h"

namespace seller::train {
namespace {

// Restores the process-wide sync-debug mode even when an assertion returns early.
class SyncDebug {
 public:
  explicit SyncDebug(c10::cuda::SyncDebugMode mode) {
    c10::cuda::warning_state().set_sync_debug_mode(mode);
  }
  ~SyncDebug() {
    c10::cuda::warning_state().set_sync_debug_mode(c10::cuda::SyncDebugMode::L_DISABLED);
  }
};

struct Step {
  model::SellerModel model;
  torch::optim::AdamW opt;
  std::vector<dist::NormEntry> norms;
  Fixture data = fixture(12);
  model::MoeStats stats;

  explicit Step(const std::string& dispatch)
      : model(make(dispatch)), opt(model->parameters(), torch::optim::AdamWOptions(1e-3)) {
    for (const auto& p : model->parameters()) norms.push_back({p, 1});
  }
  static model::SellerModel make(const std::string& dispatch) {
    auto out = tiny_model("moe", /*learned=*/true, /*item_negatives=*/0,
                          [&](model::SellerModelOptions& o) {
                            o.adapter.moe.dispatch = dispatch;
                            o.adapter.moe.dropless = false;
                            o.adapter.moe.capacity_factor = 0.5;  // drops: the kept mask is used
                          });
    out->to(torch::kCUDA);
    out->train();
    return out;
  }
  // One optimizer step on rows [first, first + 6), the way seller_trainer.cpp runs it on a GPU.
  torch::Tensor run(size_t first) {
    std::vector<size_t> rows;
    for (size_t i = 0; i < 6; ++i) rows.push_back((first + i) % data.examples.size());
    auto batch = make_batch(data.examples, data.tokens, rows, 0, HistoryControl::kReal, 0,
                            /*pinned=*/true)
                     .to(torch::kCUDA, /*non_blocking=*/true);
    model::SellerLosses l;
    {
      AutocastScope autocast(true);
      l = model->losses(batch, model::SellerLossWeights{});
    }
    l.total.backward();
    stats.add(l.stats);
    dist::clip_grad_norm_async(norms, nullptr, 1.0);
    fused_adamw_step(opt);
    opt.zero_grad();
    return l.total.detach();
  }
};

TEST(SyncFreeStep, BatchForwardBackwardClipAndFusedAdamWNeverWaitForTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to LibTorch";
  Step s("auto");  // auto: dense on CUDA (8 >= 4 experts / top-2)
  s.run(0);        // warm-up: lazy initialisations (cuBLAS handles, optimizer state)
  torch::Tensor last;
  {
    SyncDebug guard(c10::cuda::SyncDebugMode::L_ERROR);
    try {
      for (size_t step = 1; step <= 3; ++step) last = s.run(step * 5);
    } catch (const c10::Error& e) {
      FAIL() << "a training step synchronised with the GPU: " << e.what_without_backtrace();
    }
  }
  EXPECT_TRUE(std::isfinite(last.item<double>()));
  ASSERT_FALSE(s.stats.settled());
  s.stats.settle();
  // 4 steps x 6 rows x 3 prompts x top-2, capacity ceil(0.5 * 18 * 2 / 4) = 5 per expert.
  EXPECT_EQ(s.stats.assignments, 4 * 6 * 3 * 2);
  EXPECT_GT(s.stats.dropped, 0);
  int64_t kept = 0;
  for (int64_t c : s.stats.tokens_per_expert) kept += c;
  EXPECT_EQ(kept + s.stats.dropped, s.stats.assignments);
}

TEST(SyncFreeStep, TheCheckCatchesTheSortedDispatchsHostRead) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device visible to LibTorch";
  Step s("sorted");
  s.run(0);
  SyncDebug guard(c10::cuda::SyncDebugMode::L_ERROR);
  EXPECT_THROW(s.run(5), c10::Error);
}

}  // namespace
}  // namespace seller::train
