// Combined layouts at 4 in-process ranks, each against one process on the same weights and the
// whole batch, over three optimizer steps with global gradient-norm clipping:
//   dp2 x tp2  TpDecoder; gradients reduced over the data-parallel replicas of each shard
//              (edp group), clipping norm summed over tp without double-counting replicated
//              norms, ZeRO-1 AdamW sharded over edp;
//   dp2 x ep2  EpMoeLayer; router gradients over all four ranks (edp), expert gradients over the
//              two replicas of each expert (dp group), clipping over ep, plain AdamW.
// Losses, clipping norms and parameters (gathered over tp / ep) must match at every step.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/ddp/ddp.h"
#include "dist/ddp/grad_clip.h"
#include "dist/ep/ep_moe_layer.h"
#include "dist/optim/zero_adamw.h"
#include "dist/topology/process_groups.h"
#include "dist/tp/tp_decoder.h"
#include "dist/tp/tp_ops.h"
#include "trainer/model/llm/decoder.h"
#include "trainer/model/moe/moe_layer.h"

namespace seller::dist {
namespace {

// A decoder input of token ids only (designated initializers would leave members unnamed).
model::DecoderInput ids_input(const torch::Tensor& ids) {
  model::DecoderInput in;
  in.input_ids = ids;
  return in;
}

constexpr int kSteps = 3;
constexpr double kTol = 1e-5, kMaxNorm = 0.5, kLr = 1e-2;

torch::Tensor gather_dim(const torch::Tensor& local, int64_t dim, Communicator& comm) {
  if (dim == 1) return all_gather_last_dim(local, comm);
  auto sizes = local.sizes().vec();
  sizes[0] *= comm.size();
  auto out = torch::empty(sizes, local.options());
  comm.all_gather(local.contiguous(), out);
  return out;
}

// ---- dp2 x tp2 decoder ----
model::DecoderConfig dec_config() {
  model::DecoderConfig c;
  c.vocab_size = 32, c.hidden_size = 16, c.intermediate_size = 24, c.num_layers = 2;
  c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 4, c.max_positions = 32;
  c.tie_word_embeddings = false, c.qkv_bias = true;
  return c;
}

struct DecRef {
  std::map<std::string, torch::Tensor> init;
  std::vector<torch::Tensor> ids, targets;
  std::vector<double> losses, norms;
  std::vector<std::map<std::string, torch::Tensor>> params;
};

DecRef decoder_reference() {
  DecRef r;
  model::Decoder dec(dec_config());
  model::init_decoder_weights(dec, 0.3, 5);
  r.init = dec->hf_state_dict();
  for (auto& [k, v] : r.init) v = v.clone();
  torch::optim::AdamW opt(dec->parameters(), torch::optim::AdamWOptions(kLr));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(8);
  for (int s = 0; s < kSteps; ++s) {
    r.ids.push_back(torch::randint(0, 32, {4, 5}, gen, torch::kLong));
    r.targets.push_back(torch::randint(0, 32, {4, 5}, gen, torch::kLong));
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(
        dec->forward(ids_input(r.ids.back())).view({-1, 32}), r.targets.back().view({-1}));
    loss.backward();
    r.losses.push_back(loss.item<double>());
    r.norms.push_back(torch::nn::utils::clip_grad_norm_(dec->parameters(), kMaxNorm));
    opt.step();
    std::map<std::string, torch::Tensor> p;
    for (auto& item : dec->named_parameters()) p[item.key()] = item.value().detach().clone();
    r.params.push_back(p);
  }
  return r;
}

void decoder_case(const CommunicatorPtr& world, const DecRef& ref) {
  auto pg = make_groups(world, ParallelDims{.dp = 2, .tp = 2, .ep = 1});
  TpDecoder dec(dec_config(), pg.tp);
  dec->load_hf_state_dict_sliced(ref.init, pg.tp->rank(), pg.tp->size());
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::vector<NormEntry> entries;
  for (auto& p : dec->named_parameters()) {
    named.emplace_back(p.key(), p.value());
    entries.push_back({p.value(), tp_split_of(p.key()) == TpSplit::kReplicated ? 2 : 1});
  }
  DistributedDataParallel ddp(
      named, {GradGroup{pg.edp, 0.5}}, [](const std::string&) { return size_t{0}; },
      DdpOptions{.bucket_bytes = 2048});
  ZeroAdamW opt(dec->parameters(), pg.edp, ZeroAdamWOptions{.lr = kLr});
  const int64_t begin = 2 * pg.coord.d;
  for (int s = 0; s < kSteps; ++s) {
    opt.zero_grad();
    auto logits = dec->forward(ids_input(ref.ids[s].narrow(0, begin, 2)));
    auto loss = dec->loss(logits, ref.targets[s].narrow(0, begin, 2));
    loss.backward();
    ddp.finish();
    auto mean = loss.detach().reshape({1}).clone();
    pg.edp->all_reduce(mean, ReduceOp::kAvg);
    EXPECT_NEAR(mean.item<double>(), ref.losses[s], kTol) << "decoder loss, step " << s;
    const double norm = clip_grad_norm_distributed(entries, pg.tp.get(), kMaxNorm);
    EXPECT_NEAR(norm, ref.norms[s], kTol * std::max(1.0, ref.norms[s])) << "step " << s;
    opt.step();
    for (auto& p : dec->named_parameters()) {
      const auto split = tp_split_of(p.key());
      auto full = split == TpSplit::kReplicated
                      ? p.value().detach()
                      : gather_dim(p.value().detach(), split == TpSplit::kColumns ? 1 : 0, *pg.tp);
      const double diff = (full - ref.params[s].at(p.key())).abs().max().item<double>();
      EXPECT_LE(diff, kTol) << p.key() << " after step " << s << ", rank " << world->rank();
    }
  }
}

// ---- dp2 x ep2 MoE ----
constexpr int64_t kIn = 6, kHidden = 8, kOut = 4;
const std::vector<int64_t> kTokens = {5, 7, 6, 3};  // rank (d, e) = 2d + e

model::MoeOptions moe_options() {
  model::MoeOptions o;
  o.num_experts = 4, o.top_k = 2, o.capacity_factor = 1.0, o.aux_loss_weight = 0.3;
  o.z_loss_weight = 0.1;
  return o;
}

struct MoeRef {
  std::map<std::string, torch::Tensor> init;
  std::vector<torch::Tensor> x, probe;  // per step, all 21 tokens in rank order
  std::vector<double> norms;
  std::vector<std::map<std::string, torch::Tensor>> params;
};

MoeRef moe_reference() {
  MoeRef r;
  torch::manual_seed(21);
  model::MoeLayer full(kIn, kHidden, kOut, moe_options());
  for (auto& p : full->named_parameters()) r.init[p.key()] = p.value().detach().clone();
  torch::optim::AdamW opt(full->parameters(), torch::optim::AdamWOptions(kLr));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(13);
  for (int s = 0; s < kSteps; ++s) {
    r.x.push_back(torch::randn({21, kIn}, gen, torch::kFloat32));
    r.probe.push_back(torch::randn({21, kOut}, gen, torch::kFloat32));
    opt.zero_grad();
    // Replica d sees the union of its two ep ranks' tokens; the step's loss is the replicas' mean.
    torch::Tensor total = torch::zeros({});
    for (int d = 0; d < 2; ++d) {
      const int64_t begin = d == 0 ? 0 : kTokens[0] + kTokens[1];
      const int64_t n = kTokens[2 * d] + kTokens[2 * d + 1];
      auto out = full->forward(r.x[s].narrow(0, begin, n));
      auto loss = (out.output * r.probe[s].narrow(0, begin, n)).sum() / static_cast<double>(n) +
                  out.aux_loss + out.z_loss;
      total = total + loss / 2.0;
    }
    total.backward();
    r.norms.push_back(torch::nn::utils::clip_grad_norm_(full->parameters(), kMaxNorm));
    opt.step();
    std::map<std::string, torch::Tensor> p;
    for (auto& item : full->named_parameters()) p[item.key()] = item.value().detach().clone();
    r.params.push_back(p);
  }
  return r;
}

void moe_case(const CommunicatorPtr& world, const MoeRef& ref) {
  auto pg = make_groups(world, ParallelDims{.dp = 2, .tp = 1, .ep = 2});
  EpMoeLayer layer(kIn, kHidden, kOut, moe_options(), pg.ep);
  layer->load_full_state(ref.init);
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::vector<NormEntry> entries;
  for (auto& p : layer->named_parameters()) {
    named.emplace_back(p.key(), p.value());
    entries.push_back({p.value(), EpMoeLayerImpl::is_expert_parameter(p.key()) ? 1 : 2});
  }
  // Router over the four ranks (edp), experts over their two replicas (dp); 1/dp for both.
  DistributedDataParallel ddp(named, {GradGroup{pg.edp, 0.5}, GradGroup{pg.dp, 0.5}},
                              [](const std::string& n) {
                                return size_t{EpMoeLayerImpl::is_expert_parameter(n) ? 1u : 0u};
                              });
  torch::optim::AdamW opt(layer->parameters(), torch::optim::AdamWOptions(kLr));
  const int r = world->rank(), d = pg.coord.d;
  int64_t begin = 0;
  for (int q = 0; q < r; ++q) begin += kTokens[q];
  const double replica_tokens = static_cast<double>(kTokens[2 * d] + kTokens[2 * d + 1]);
  for (int s = 0; s < kSteps; ++s) {
    opt.zero_grad();
    auto out = layer->forward(ref.x[s].narrow(0, begin, kTokens[r]));
    // This rank's share of its replica's loss (aux and z carry their share in backward).
    auto loss = (out.output * ref.probe[s].narrow(0, begin, kTokens[r])).sum() / replica_tokens +
                out.aux_loss + out.z_loss;
    loss.backward();
    ddp.finish();
    const double norm = clip_grad_norm_distributed(entries, pg.ep.get(), kMaxNorm);
    EXPECT_NEAR(norm, ref.norms[s], kTol * std::max(1.0, ref.norms[s])) << "step " << s;
    opt.step();
    for (auto& p : layer->named_parameters()) {
      auto full = EpMoeLayerImpl::is_expert_parameter(p.key())
                      ? gather_dim(p.value().detach(), 0, *pg.ep)
                      : p.value().detach();
      const double diff = (full - ref.params[s].at(p.key())).abs().max().item<double>();
      EXPECT_LE(diff, kTol) << p.key() << " after step " << s << ", rank " << r;
    }
  }
}

TEST(Combined, Dp2Tp2DecoderEqualsSingleProcess) {
  torch::set_num_threads(1);
  const auto ref = decoder_reference();
  run_world(4, [&](const CommunicatorPtr& world) { decoder_case(world, ref); });
}

TEST(Combined, Dp2Ep2MoeEqualsSingleProcess) {
  torch::set_num_threads(1);
  const auto ref = moe_reference();
  run_world(4, [&](const CommunicatorPtr& world) { moe_case(world, ref); });
}

}  // namespace
}  // namespace seller::dist
