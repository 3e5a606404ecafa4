// Backend-independent training equivalence cases (several optimizer steps), shared by the MPI
// driver (tests/dist/mpi_parallel_equivalence.cpp) and the NCCL driver
// (tests/gpu/test_nccl_parallel.cpp); see parallel_cases.h for DiffLog and the conventions.
//   dp_zero_case  data parallel over the whole world: bucketed DDP, global clipping, ZeRO-1
//                 AdamW (weight decay on) vs torch AdamW + clip_grad_norm_ on the whole batch;
//   dp2_tp2_case  4 ranks, TpDecoder, gradients over edp, clipping over tp, ZeRO-1 over edp;
//   dp2_ep2_case  4 ranks, EpMoeLayer, router over edp, experts over dp, clipping over ep.
// Every reference is a pure function of fixed seeds, so each MPI rank can build its own.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "dist/ddp/ddp.h"
#include "dist/ddp/grad_clip.h"
#include "dist/optim/zero_adamw.h"
#include "dist/topology/process_groups.h"
#include "tests/dist/parallel_cases.h"

namespace seller::dist::cases {

constexpr int kSteps = 3;
constexpr double kMaxNorm = 0.5, kLr = 1e-2, kWeightDecay = 0.1;

inline model::DecoderConfig train_config(bool tp_layout) {
  model::DecoderConfig c;
  c.vocab_size = tp_layout ? 32 : 48, c.hidden_size = 16, c.intermediate_size = 24;
  c.num_layers = 2, c.num_heads = 4, c.num_kv_heads = 2, c.head_dim = 4, c.max_positions = 32;
  c.tie_word_embeddings = !tp_layout, c.qkv_bias = tp_layout;
  return c;
}

// One process on the whole batch of every step: per-step loss, clipping norm, and parameters
// after the step (HF names for the TP layout, which loads sliced HF tensors).
struct TrainReference {
  model::DecoderConfig config;
  std::map<std::string, torch::Tensor> init;
  std::vector<torch::Tensor> ids, targets;  // [4, 5] per step
  std::vector<double> losses, norms;
  std::vector<std::map<std::string, torch::Tensor>> grads, params;
};

inline TrainReference train_reference(bool tp_layout, torch::Device device) {
  TrainReference r;
  r.config = train_config(tp_layout);
  model::Decoder dec(r.config);
  model::init_decoder_weights(dec, 0.3, tp_layout ? 5 : 11);
  dec->to(device);
  if (tp_layout) {
    for (auto& [k, v] : dec->hf_state_dict()) r.init[k] = v.detach().clone();
  } else {
    for (auto& p : dec->named_parameters()) r.init[p.key()] = p.value().detach().clone();
  }
  torch::optim::AdamW opt(dec->parameters(),
                          torch::optim::AdamWOptions(kLr).weight_decay(kWeightDecay));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(17);
  const int64_t v = r.config.vocab_size;
  for (int s = 0; s < kSteps; ++s) {
    r.ids.push_back(torch::randint(0, v, {4, 5}, gen, torch::kLong).to(device));
    r.targets.push_back(torch::randint(0, v, {4, 5}, gen, torch::kLong).to(device));
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(
        dec->forward(decoder_input(r.ids.back())).view({-1, v}), r.targets.back().view({-1}));
    loss.backward();
    r.losses.push_back(loss.item<double>());
    r.norms.push_back(torch::nn::utils::clip_grad_norm_(dec->parameters(), kMaxNorm));
    std::map<std::string, torch::Tensor> g, p;
    for (auto& item : dec->named_parameters()) g[item.key()] = item.value().grad().clone();
    opt.step();
    for (auto& item : dec->named_parameters()) p[item.key()] = item.value().detach().clone();
    r.grads.push_back(g);
    r.params.push_back(p);
  }
  return r;
}

// Data parallel over the whole world (dp = world size, which divides the batch of 4).
inline void dp_zero_case(const CommunicatorPtr& dp, const TrainReference& ref, torch::Device device,
                         DiffLog& log) {
  model::Decoder dec(ref.config);
  dec->to(device);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : dec->named_parameters()) p.value().copy_(ref.init.at(p.key()));
  }
  std::vector<std::pair<std::string, torch::Tensor>> named;
  std::vector<NormEntry> entries;
  for (auto& p : dec->named_parameters()) {
    named.emplace_back(p.key(), p.value());
    entries.push_back({p.value(), 1});
  }
  DistributedDataParallel ddp(named, dp, DdpOptions{.bucket_bytes = 4096});
  EXPECT_GE(ddp.buckets().size(), 3u);
  ZeroAdamW opt(dec->parameters(), dp, ZeroAdamWOptions{.lr = kLr, .weight_decay = kWeightDecay});
  const int64_t local = 4 / dp->size(), begin = local * dp->rank();
  for (int s = 0; s < kSteps; ++s) {
    const std::string step = " step " + std::to_string(s);
    opt.zero_grad();
    auto logits = dec->forward(decoder_input(ref.ids[s].narrow(0, begin, local).to(device)));
    auto loss = torch::nn::functional::cross_entropy(
        logits.view({-1, ref.config.vocab_size}),
        ref.targets[s].narrow(0, begin, local).to(device).reshape({-1}));
    loss.backward();
    ddp.finish();
    auto mean = loss.detach().reshape({1}).clone();
    dp->all_reduce(mean, ReduceOp::kAvg);
    log.check("loss", mean.item<double>(), ref.losses[s], "loss" + step);
    const double norm = clip_grad_norm_distributed(entries, nullptr, kMaxNorm);
    log.check("norm_rel", norm, ref.norms[s], "clip norm" + step, std::max(1.0, ref.norms[s]));
    EXPECT_GT(norm, kMaxNorm) << "the case should exercise clipping";
    for (auto& p : dec->named_parameters())
      log.check("grads", p.value().grad(), ref.grads[s].at(p.key()), p.key() + " grad" + step);
    opt.step();
    for (auto& p : dec->named_parameters())
      log.check("params", p.value(), ref.params[s].at(p.key()), p.key() + " after" + step);
  }
  EXPECT_EQ(opt.step_count(), kSteps);
}

// dp2 x tp2 over 4 ranks: replica d takes rows [2d, 2d + 2) of each batch.
inline void dp2_tp2_case(const CommunicatorPtr& world, const TrainReference& ref,
                         torch::Device device, DiffLog& log) {
  auto pg = make_groups(world, ParallelDims{.dp = 2, .tp = 2, .ep = 1});
  TpDecoder dec(ref.config, pg.tp);
  dec->to(device);
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
  ZeroAdamW opt(dec->parameters(), pg.edp,
                ZeroAdamWOptions{.lr = kLr, .weight_decay = kWeightDecay});
  const int64_t begin = 2 * pg.coord.d;
  for (int s = 0; s < kSteps; ++s) {
    const std::string step = " step " + std::to_string(s);
    opt.zero_grad();
    auto logits = dec->forward(decoder_input(ref.ids[s].narrow(0, begin, 2).to(device)));
    auto loss = dec->loss(logits, ref.targets[s].narrow(0, begin, 2).to(device));
    loss.backward();
    ddp.finish();
    auto mean = loss.detach().reshape({1}).clone();
    pg.edp->all_reduce(mean, ReduceOp::kAvg);
    log.check("loss", mean.item<double>(), ref.losses[s], "loss" + step);
    const double norm = clip_grad_norm_distributed(entries, pg.tp.get(), kMaxNorm);
    log.check("norm_rel", norm, ref.norms[s], "clip norm" + step, std::max(1.0, ref.norms[s]));
    opt.step();
    for (auto& p : dec->named_parameters())
      log.check("params", gather_tp(p.key(), p.value().detach(), *pg.tp), ref.params[s].at(p.key()),
                p.key() + " after" + step);
  }
}

// ---- dp2 x ep2 MoE over 4 ranks; rank (d, e) = 2d + e holds kDpEpTokens[rank] tokens ----
const std::vector<int64_t> kDpEpTokens = {5, 7, 0, 9};  // rank 2 has no token at all

inline model::MoeOptions dp_ep_options() {
  model::MoeOptions o;
  o.num_experts = 4, o.top_k = 2, o.capacity_factor = 1.0, o.aux_loss_weight = 0.3;
  o.z_loss_weight = 0.1;
  return o;
}

struct MoeTrainReference {
  std::map<std::string, torch::Tensor> init;
  std::vector<torch::Tensor> x, probe;  // per step, all tokens in rank order
  std::vector<double> norms;
  std::vector<std::map<std::string, torch::Tensor>> params;
};

inline MoeTrainReference moe_train_reference(torch::Device device) {
  MoeTrainReference r;
  torch::manual_seed(21);
  model::MoeLayer full(kMoeIn, kMoeHidden, kMoeOut, dp_ep_options());
  full->to(device);
  for (auto& p : full->named_parameters()) r.init[p.key()] = p.value().detach().clone();
  torch::optim::AdamW opt(full->parameters(), torch::optim::AdamWOptions(kLr));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(13);
  const int64_t total = 21;
  for (int s = 0; s < kSteps; ++s) {
    r.x.push_back(torch::randn({total, kMoeIn}, gen, torch::kFloat32).to(device));
    r.probe.push_back(torch::randn({total, kMoeOut}, gen, torch::kFloat32).to(device));
    opt.zero_grad();
    // Replica d sees the union of its two ep ranks' tokens; the step's loss is the replicas' mean.
    torch::Tensor sum = torch::zeros({}, r.x.back().options());
    int64_t begin = 0;
    for (int d = 0; d < 2; ++d) {
      const int64_t n = kDpEpTokens[2 * d] + kDpEpTokens[2 * d + 1];
      auto out = full->forward(r.x[s].narrow(0, begin, n));
      sum = sum + ((out.output * r.probe[s].narrow(0, begin, n)).sum() / static_cast<double>(n) +
                   out.aux_loss + out.z_loss) /
                      2.0;
      begin += n;
    }
    sum.backward();
    r.norms.push_back(torch::nn::utils::clip_grad_norm_(full->parameters(), kMaxNorm));
    opt.step();
    std::map<std::string, torch::Tensor> p;
    for (auto& item : full->named_parameters()) p[item.key()] = item.value().detach().clone();
    r.params.push_back(p);
  }
  return r;
}

inline void dp2_ep2_case(const CommunicatorPtr& world, const MoeTrainReference& ref,
                         torch::Device device, DiffLog& log) {
  auto pg = make_groups(world, ParallelDims{.dp = 2, .tp = 1, .ep = 2});
  EpMoeLayer layer(kMoeIn, kMoeHidden, kMoeOut, dp_ep_options(), pg.ep);
  layer->to(device);
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
  for (int q = 0; q < r; ++q) begin += kDpEpTokens[q];
  const int64_t n = kDpEpTokens[r];
  const double replica_tokens = static_cast<double>(kDpEpTokens[2 * d] + kDpEpTokens[2 * d + 1]);
  for (int s = 0; s < kSteps; ++s) {
    const std::string step = " step " + std::to_string(s);
    opt.zero_grad();
    auto out = layer->forward(ref.x[s].narrow(0, begin, n).to(device));
    // This rank's share of its replica's loss (aux and z carry their share in backward).
    auto probe = ref.probe[s].narrow(0, begin, n).to(device);
    auto loss = (out.output * probe).sum() / replica_tokens + out.aux_loss + out.z_loss;
    loss.backward();
    ddp.finish();
    const double norm = clip_grad_norm_distributed(entries, pg.ep.get(), kMaxNorm);
    log.check("norm_rel", norm, ref.norms[s], "clip norm" + step, std::max(1.0, ref.norms[s]));
    opt.step();
    for (auto& p : layer->named_parameters()) {
      auto full = EpMoeLayerImpl::is_expert_parameter(p.key())
                      ? gather_dim(p.value().detach(), 0, *pg.ep)
                      : p.value().detach();
      log.check("params", full, ref.params[s].at(p.key()), p.key() + " after" + step);
    }
  }
}

}  // namespace seller::dist::cases
