// Tensor-parallel layers at tp = 2 and 4 (in-process ranks) against the unsharded torch layers
// on the same weights: column-parallel linear (split and gathered output), row-parallel linear
// (bias added once), vocab-parallel embedding (ids owned by every rank), vocab-parallel
// cross-entropy against torch's cross_entropy with ignore_index; forward values and the
// gradients of inputs and of every weight slice. Bodies take the world communicator, so an MPI
// or NCCL driver can run them unchanged.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/tp/tp_linear.h"
#include "dist/tp/tp_ops.h"
#include "dist/tp/vocab_parallel_ce.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

constexpr double kTol = 1e-5;

torch::Tensor randn(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn(shape, gen, torch::kFloat32);
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const char* what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LE(diff, kTol) << what << ": max |diff| " << diff;
}

// Reference: y = x W^T + b, loss = sum(y * probe); returns dL/dx, dL/dW, dL/db.
struct LinearRef {
  torch::Tensor y, dx, dw, db;
};
LinearRef linear_ref(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                     const torch::Tensor& probe) {
  auto xr = x.clone().requires_grad_(true), wr = w.clone().requires_grad_(true),
       br = b.clone().requires_grad_(true);
  auto y = torch::nn::functional::linear(xr, wr, br);
  (y * probe).sum().backward();
  return {y.detach(), xr.grad(), wr.grad(), br.grad()};
}

class TpLayers : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

void column_parallel_case(const CommunicatorPtr& tp, bool gather) {
  const int64_t in = 6, out = 8;
  auto x = randn({3, 5, in}, 1), w = randn({out, in}, 2), b = randn({out}, 3);
  auto probe = randn({3, 5, out}, 4);
  auto ref = linear_ref(x, w, b, probe);
  ColumnParallelLinear layer(in, out, true, tp, gather);
  layer->load_full(w, b);
  auto xr = x.clone().requires_grad_(true);
  auto y = layer(xr);
  auto local_probe = rank_slice(probe, -1, tp->rank(), tp->size());
  if (gather) {
    expect_close(y, ref.y, "gathered output");
    // Every rank holds the same full output; the loss on each rank is the full loss, so the
    // local weight slice's gradient is the slice of the full one.
    (y * probe).sum().backward();
  } else {
    expect_close(y, rank_slice(ref.y, -1, tp->rank(), tp->size()), "split output");
    (y * local_probe).sum().backward();
  }
  expect_close(xr.grad(), ref.dx, "input gradient");
  expect_close(layer->weight.grad(), rank_slice(ref.dw, 0, tp->rank(), tp->size()), "dW");
  expect_close(layer->bias.grad(), rank_slice(ref.db, 0, tp->rank(), tp->size()), "db");
}

TEST_P(TpLayers, ColumnParallelLinearSplitAndGathered) {
  run_world(GetParam(), [](const CommunicatorPtr& world) {
    column_parallel_case(world, false);
    column_parallel_case(world, true);
  });
}

TEST_P(TpLayers, RowParallelLinearAddsBiasOnce) {
  run_world(GetParam(), [](const CommunicatorPtr& tp) {
    const int64_t in = 8, out = 6;
    auto x = randn({4, in}, 5), w = randn({out, in}, 6), b = randn({out}, 7);
    auto probe = randn({4, out}, 8);
    auto ref = linear_ref(x, w, b, probe);
    for (bool parallel_input : {true, false}) {
      RowParallelLinear layer(in, out, true, tp, parallel_input);
      layer->load_full(w, b);
      auto xr = (parallel_input ? rank_slice(x, -1, tp->rank(), tp->size()).clone() : x.clone())
                    .requires_grad_(true);
      auto y = layer(xr);
      expect_close(y, ref.y, "row-parallel output");
      (y * probe).sum().backward();
      expect_close(xr.grad(),
                   parallel_input ? rank_slice(ref.dx, -1, tp->rank(), tp->size()) : ref.dx,
                   "input gradient");
      expect_close(layer->weight.grad(), rank_slice(ref.dw, 1, tp->rank(), tp->size()), "dW");
      expect_close(layer->bias.grad(), ref.db, "db (replicated)");
    }
  });
}

TEST_P(TpLayers, VocabParallelEmbeddingEqualsEmbedding) {
  run_world(GetParam(), [](const CommunicatorPtr& tp) {
    const int64_t vocab = 16, dim = 5;
    auto table = randn({vocab, dim}, 9);
    auto ids = torch::tensor({{0, 15, 7, 8}, {3, 3, 12, 4}}, torch::kLong);  // every rank's ids
    auto probe = randn({2, 4, dim}, 10);
    auto tr = table.clone().requires_grad_(true);
    auto ref = torch::embedding(tr, ids);
    (ref * probe).sum().backward();
    VocabParallelEmbedding emb(vocab, dim, tp);
    emb->load_full(table);
    auto y = emb(ids);
    expect_close(y, ref.detach(), "embedding output");
    (y * probe).sum().backward();
    expect_close(emb->weight.grad(), rank_slice(tr.grad(), 0, tp->rank(), tp->size()),
                 "table gradient");
  });
}

TEST_P(TpLayers, VocabParallelCrossEntropyEqualsTorch) {
  run_world(GetParam(), [](const CommunicatorPtr& tp) {
    const int64_t vocab = 24;
    // Large logits check the max shift; -100 targets are ignored.
    auto logits = randn({2, 5, vocab}, 11) * 30;
    auto target = torch::tensor({{1, 23, -100, 12, 0}, {11, 12, -100, 5, 17}}, torch::kLong);
    auto lr = logits.clone().requires_grad_(true);
    auto ref = torch::nn::functional::cross_entropy(
        lr.view({-1, vocab}), target.view({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
    ref.backward();
    const int64_t part = vocab / tp->size();
    auto local = rank_slice(logits, -1, tp->rank(), tp->size()).clone().requires_grad_(true);
    auto loss = vocab_parallel_cross_entropy(local, target, *tp, part * tp->rank());
    EXPECT_NEAR(loss.item<double>(), ref.item<double>(), kTol);
    (loss * 3.0).backward();  // a non-unit upstream gradient
    expect_close(local.grad(), rank_slice(lr.grad() * 3.0, -1, tp->rank(), tp->size()),
                 "logit gradient");
  });
}

TEST_P(TpLayers, IndivisibleSizesAreConfigErrors) {
  run_world(GetParam(), [](const CommunicatorPtr& tp) {
    EXPECT_THROW(ColumnParallelLinear(4, 6 * tp->size() + 1, false, tp), ConfigError);
    EXPECT_THROW(RowParallelLinear(6 * tp->size() + 1, 4, false, tp), ConfigError);
    EXPECT_THROW(VocabParallelEmbedding(tp->size() * 5 + 1, 4, tp), ConfigError);
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, TpLayers, ::testing::Values(2, 4));

}  // namespace
}  // namespace seller::dist
