// Data parallelism at dp = 2 and 4 (in-process ranks) against one process on the whole batch:
// a small Llama-style Decoder (tied embeddings, so one parameter has two uses) trained for three
// AdamW steps with global gradient-norm clipping. Each rank gets its slice of the global batch;
// the per-step losses (averaged over ranks), the reduced gradients, the clipping norm (equal to
// torch's clip_grad_norm_ on the single process, and actually clipping) and the parameters after
// every step must match. Also: several buckets, launched while backward is still running, and an
// unused parameter on one rank still gets the other ranks' gradient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/ddp/ddp.h"
#include "dist/ddp/grad_clip.h"
#include "trainer/model/llm/decoder.h"

namespace seller::dist {
namespace {

// A decoder input of token ids only (designated initializers would leave members unnamed).
model::DecoderInput ids_input(const torch::Tensor& ids) {
  model::DecoderInput in;
  in.input_ids = ids;
  return in;
}

constexpr double kLossTol = 1e-5, kGradTol = 1e-5, kParamTol = 1e-5;
constexpr int kSteps = 3;
constexpr int64_t kBatch = 4, kLen = 6;
constexpr double kMaxNorm = 0.5, kLr = 1e-2;

model::DecoderConfig config() {
  model::DecoderConfig c;
  c.vocab_size = 48, c.hidden_size = 16, c.intermediate_size = 24, c.num_layers = 2;
  c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 4, c.max_positions = 32;
  return c;
}

struct Trace {
  std::map<std::string, torch::Tensor> init;
  std::vector<torch::Tensor> ids, targets;                          // per step, [kBatch, kLen]
  std::vector<double> losses, norms;                                // per step
  std::vector<std::map<std::string, torch::Tensor>> grads, params;  // per step (after clip/step)
};

torch::Tensor ce(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(logits.view({-1, logits.size(-1)}),
                                              targets.reshape({-1}));
}

Trace single_process() {
  Trace t;
  model::Decoder dec(config());
  model::init_decoder_weights(dec, 0.3, 11);
  for (auto& p : dec->named_parameters()) t.init[p.key()] = p.value().detach().clone();
  torch::optim::AdamW opt(dec->parameters(), torch::optim::AdamWOptions(kLr));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(17);
  for (int s = 0; s < kSteps; ++s) {
    t.ids.push_back(torch::randint(0, config().vocab_size, {kBatch, kLen}, gen, torch::kLong));
    t.targets.push_back(torch::randint(0, config().vocab_size, {kBatch, kLen}, gen, torch::kLong));
    opt.zero_grad();
    auto loss = ce(dec->forward(ids_input(t.ids.back())), t.targets.back());
    loss.backward();
    t.losses.push_back(loss.item<double>());
    t.norms.push_back(torch::nn::utils::clip_grad_norm_(dec->parameters(), kMaxNorm));
    std::map<std::string, torch::Tensor> g, p;
    for (auto& item : dec->named_parameters()) g[item.key()] = item.value().grad().clone();
    opt.step();
    for (auto& item : dec->named_parameters()) p[item.key()] = item.value().detach().clone();
    t.grads.push_back(g);
    t.params.push_back(p);
  }
  return t;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// The test body over any backend's data-parallel group.
void data_parallel_case(const CommunicatorPtr& dp, const Trace& ref) {
  model::Decoder dec(config());
  {
    torch::NoGradGuard no_grad;
    for (auto& p : dec->named_parameters()) p.value().copy_(ref.init.at(p.key()));
  }
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::vector<NormEntry> norm_entries;
  for (auto& p : dec->named_parameters()) {
    named.emplace_back(p.key(), p.value());
    norm_entries.push_back({p.value(), 1});
  }
  DistributedDataParallel ddp(named, dp, DdpOptions{.bucket_bytes = 4096});
  ASSERT_GE(ddp.buckets().size(), 3u);
  torch::optim::AdamW opt(dec->parameters(), torch::optim::AdamWOptions(kLr));
  const int64_t local = kBatch / dp->size(), begin = local * dp->rank();
  for (int s = 0; s < kSteps; ++s) {
    opt.zero_grad();
    auto loss = ce(dec->forward(ids_input(ref.ids[s].narrow(0, begin, local))),
                   ref.targets[s].narrow(0, begin, local));
    loss.backward();
    ddp.finish();
    if (s == 0) {
      EXPECT_GT(ddp.launched_during_backward(), 0) << "no overlap with backward";
    }
    auto mean_loss = loss.detach().reshape({1}).clone();
    dp->all_reduce(mean_loss, ReduceOp::kAvg);
    EXPECT_NEAR(mean_loss.item<double>(), ref.losses[s], kLossTol) << "step " << s;
    const double norm = clip_grad_norm_distributed(norm_entries, nullptr, kMaxNorm);
    EXPECT_NEAR(norm, ref.norms[s], 1e-5 * std::max(1.0, ref.norms[s])) << "step " << s;
    EXPECT_GT(norm, kMaxNorm) << "the test should exercise clipping";
    for (auto& p : dec->named_parameters())
      EXPECT_LE(max_diff(p.value().grad(), ref.grads[s].at(p.key())), kGradTol)
          << p.key() << " gradient, step " << s;
    opt.step();
    for (auto& p : dec->named_parameters())
      EXPECT_LE(max_diff(p.value(), ref.params[s].at(p.key())), kParamTol)
          << p.key() << " after step " << s;
  }
}

class DdpTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

TEST_P(DdpTest, SplitBatchEqualsSingleProcessOverAdamWStepsWithClipping) {
  const auto ref = single_process();
  run_world(GetParam(), [&](const CommunicatorPtr& world) { data_parallel_case(world, ref); });
}

TEST_P(DdpTest, ParameterUnusedOnOneRankGetsTheOthersGradient) {
  run_world(GetParam(), [](const CommunicatorPtr& dp) {
    auto a = torch::ones({3}).requires_grad_(true), b = torch::ones({2}).requires_grad_(true);
    DistributedDataParallel ddp({{"a", a}, {"b", b}}, dp, DdpOptions{.bucket_bytes = 4});
    // Rank 0 does not use b this step; the others do.
    auto loss = (a * (dp->rank() + 1.0)).sum();
    if (dp->rank() != 0) loss = loss + (b * 2.0).sum();
    loss.backward();
    ddp.finish();
    const double n = dp->size();
    const double mean_rank = (n + 1.0) / 2.0;  // mean of 1..n
    EXPECT_TRUE(torch::allclose(a.grad(), torch::full({3}, mean_rank)));
    ASSERT_TRUE(b.grad().defined());
    EXPECT_TRUE(torch::allclose(b.grad(), torch::full({2}, 2.0 * (n - 1) / n)));
  });
}

INSTANTIATE_TEST_SUITE_P(Ranks, DdpTest, ::testing::Values(2, 4));

}  // namespace
}  // namespace seller::dist
