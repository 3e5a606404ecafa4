// Backend-independent equivalence cases for the tensor- and expert-parallel layers, shared by
// the MPI driver (tests/dist/mpi_parallel_equivalence.cpp, CPU) and the NCCL driver
// (tests/gpu/test_nccl_parallel.cpp, one GPU per rank). Each case takes the world communicator
// of one rank, the device that rank computes on and a single-process reference built from fixed
// seeds (MPI: every rank builds it itself; NCCL: one per GPU, on that GPU, built before the rank
// threads start, so that no rank reads another rank's GPU), and compares through a
// DiffLog, which asserts the tolerance and keeps the largest difference per quantity so the
// drivers can print what was measured, not just that it passed.
//
// The in-process tests (test_tp_decoder.cpp, test_ep_moe.cpp) check the same things; their
// bodies live in those files' anonymous namespaces, hence these compact equivalents.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "dist/comm/communicator.h"
#include "dist/ep/ep_moe_layer.h"
#include "dist/tp/tp_decoder.h"
#include "dist/tp/tp_ops.h"
#include "trainer/model/llm/decoder.h"
#include "trainer/model/moe/moe_layer.h"

namespace seller::dist::cases {

// Max |a - b| in float64 on the CPU (tensors may live on different GPUs); 0 for empty tensors.
inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  if (a.sizes() != b.sizes()) return std::numeric_limits<double>::infinity();
  if (a.numel() == 0) return 0.0;
  auto x = a.detach().to(torch::kCPU, torch::kDouble);
  auto y = b.detach().to(torch::kCPU, torch::kDouble);
  return (x - y).abs().max().item<double>();
}

// Asserts every comparison against one tolerance and remembers the largest difference per
// quantity ("logits", "grads", ...). Every rank must make the same calls (report() reduces over
// the world), so record even empty comparisons instead of skipping them.
class DiffLog {
 public:
  explicit DiffLog(double tol) : tol_(tol) {}

  void check(const std::string& quantity, const torch::Tensor& got, const torch::Tensor& want,
             const std::string& what) {
    EXPECT_EQ(got.sizes(), want.sizes()) << what;
    note(quantity, max_abs_diff(got, want), what);
  }
  // Scalars; `scale` makes the bound relative for large values (clipping norms).
  void check(const std::string& quantity, double got, double want, const std::string& what,
             double scale = 1.0) {
    note(quantity, std::abs(got - want) / scale, what);
  }

  // Max over all ranks of each quantity, printed by world rank 0; collective over `world`.
  void report(Communicator& world, torch::Device device, const std::string& label) {
    auto opts = torch::TensorOptions().dtype(torch::kDouble).device(device);
    auto count = torch::full({2}, static_cast<double>(max_.size()), opts);
    count[1].neg_();
    world.all_reduce(count, ReduceOp::kMax);
    auto c = count.cpu();
    if (c[0].item<double>() != -c[1].item<double>()) {
      ADD_FAILURE() << label << ": ranks recorded different quantities";
      return;
    }
    std::vector<double> values;
    for (const auto& [k, v] : max_) values.push_back(v);
    if (values.empty()) return;
    auto t = torch::tensor(values, torch::kDouble).to(device);
    world.all_reduce(t, ReduceOp::kMax);
    t = t.cpu();
    if (world.rank() != 0) return;
    std::string line = "[ MAXDIFF  ] " + label + " (" + world.backend() + ", " +
                       std::to_string(world.size()) + " ranks, tolerance " + fmt(tol_) + "):";
    int i = 0;
    for (const auto& [k, v] : max_) line += " " + k + " " + fmt(t[i++].item<double>());
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  void note(const std::string& quantity, double diff, const std::string& what) {
    EXPECT_LE(diff, tol_) << what << ": max |diff| " << diff;
    double& m = max_[quantity];
    m = std::max(m, diff);
  }
  static std::string fmt(double v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.2e", v);
    return buf;
  }

  double tol_;
  std::map<std::string, double> max_;
};

// Puts a tensor split over `comm` along dim 0 (rows) or the last dim (columns) back together.
inline torch::Tensor gather_dim(const torch::Tensor& local, int64_t dim, Communicator& comm) {
  if (dim != 0) return all_gather_last_dim(local.contiguous(), comm);
  auto sizes = local.sizes().vec();
  sizes[0] *= comm.size();
  auto out = torch::empty(sizes, local.options());
  comm.all_gather(local.contiguous(), out);
  return out;
}

inline torch::Tensor gather_tp(const std::string& name, const torch::Tensor& local,
                               Communicator& tp) {
  switch (tp_split_of(name)) {
    case TpSplit::kRows:
      return gather_dim(local, 0, tp);
    case TpSplit::kColumns:
      return gather_dim(local, 1, tp);
    case TpSplit::kReplicated:
      return local;
  }
  return local;
}

// ---- Tensor parallel: TpDecoder vs the unsliced Decoder ----

// Spelled out instead of designated initialisers, which -Wmissing-field-initializers flags.
inline model::DecoderInput decoder_input(torch::Tensor ids, torch::Tensor mask = {}) {
  model::DecoderInput in;
  in.input_ids = std::move(ids);
  in.attention_mask = std::move(mask);
  return in;
}

// variant false: tied embeddings, GQA, padding mask, sdpa; true: untied head, all biases,
// Qwen3 qk-norm, eager attention. P = 2 and 4 divide every split size.
inline model::DecoderConfig tp_config(bool variant) {
  model::DecoderConfig c;
  c.vocab_size = 64, c.hidden_size = 32, c.intermediate_size = 48, c.num_layers = 2;
  c.num_heads = 8, c.num_kv_heads = 4, c.head_dim = 4, c.max_positions = 64;
  c.tie_word_embeddings = !variant;
  c.qkv_bias = c.o_proj_bias = c.mlp_bias = c.qk_norm = variant;
  c.attention_impl = variant ? "eager" : "sdpa";
  return c;
}

struct TpReference {
  model::DecoderConfig config;
  std::map<std::string, torch::Tensor> state;  // HF names
  std::map<std::string, torch::Tensor> grads;  // parameter names
  torch::Tensor ids, mask, targets, logits, loss;
};

inline TpReference tp_reference(bool variant, torch::Device device) {
  TpReference ref;
  ref.config = tp_config(variant);
  const auto& c = ref.config;
  model::Decoder full(c);
  model::init_decoder_weights(full, 0.2, 42);
  {
    torch::NoGradGuard no_grad;  // non-trivial norm weights, so their gradients matter
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    for (auto& p : full->named_parameters())
      if (p.key().find("norm") != std::string::npos)
        p.value().copy_(1.0 + 0.3 * torch::randn(p.value().sizes(), gen));
  }
  full->to(device);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  ref.ids = torch::randint(0, c.vocab_size, {3, 7}, gen, torch::kLong);
  ref.targets = torch::randint(0, c.vocab_size, {3, 7}, gen, torch::kLong);
  ref.targets.index_put_({0, 2}, -100);
  if (!variant) {
    ref.mask = torch::ones({3, 7}, torch::kLong);
    ref.mask.index_put_({1, torch::indexing::Slice(0, 2)}, 0);  // left padding on row 1
    ref.targets.index_put_({1, torch::indexing::Slice(0, 2)}, -100);
    ref.mask = ref.mask.to(device);
  }
  ref.ids = ref.ids.to(device);
  ref.targets = ref.targets.to(device);
  for (auto& [k, v] : full->hf_state_dict()) ref.state[k] = v.detach().clone();
  auto logits = full->forward(decoder_input(ref.ids, ref.mask));
  auto loss = torch::nn::functional::cross_entropy(
      logits.view({-1, c.vocab_size}), ref.targets.view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  loss.backward();
  ref.logits = logits.detach();
  ref.loss = loss.detach();
  for (auto& p : full->named_parameters()) ref.grads[p.key()] = p.value().grad().clone();
  return ref;
}

// The world is the tensor-parallel group: sliced import, logits, loss, every gradient.
inline void tp_case(const CommunicatorPtr& tp, const TpReference& ref, torch::Device device,
                    DiffLog& log) {
  TpDecoder dec(ref.config, tp);
  dec->to(device);
  dec->load_hf_state_dict_sliced(ref.state, tp->rank(), tp->size());
  auto ids = ref.ids.to(device);
  auto mask = ref.mask.defined() ? ref.mask.to(device) : torch::Tensor();
  auto local_logits = dec->forward(decoder_input(ids, mask));
  log.check("logits", dec->gather_logits(local_logits), ref.logits, "logits");
  auto loss = dec->loss(local_logits, ref.targets.to(device));
  log.check("loss", loss.item<double>(), ref.loss.item<double>(), "loss");
  loss.backward();
  int checked = 0;
  for (auto& p : dec->named_parameters()) {
    const auto& g = p.value().grad();
    EXPECT_TRUE(g.defined()) << p.key();
    auto local = g.defined() ? g : torch::zeros_like(p.value());
    log.check("grads", gather_tp(p.key(), local, *tp), ref.grads.at(p.key()),
              p.key() + " gradient");
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(ref.grads.size()));
}

// ---- Expert parallel: EpMoeLayer vs MoeLayer on the union of the ranks' tokens ----

constexpr int64_t kMoeIn = 6, kMoeHidden = 10, kMoeOut = 5, kMoeExperts = 8;

struct EpCase {
  std::string name;
  model::MoeOptions options;
  std::vector<int64_t> tokens_per_rank;  // for 4 ranks; the first P are used
  bool starve_last_rank = false;         // the last rank's experts never get a token
};

inline std::vector<EpCase> ep_cases() {
  auto opts = [](std::string gating, bool dropless, double cf) {
    model::MoeOptions o;
    o.num_experts = kMoeExperts, o.top_k = 2, o.gating = gating, o.dropless = dropless;
    o.capacity_factor = cf, o.aux_loss_weight = 0.5, o.z_loss_weight = 0.25;
    return o;
  };
  return {
      {"dropless", opts("softmax", true, 1.0), {7, 5, 9, 6}},
      {"tight_capacity", opts("softmax", false, 0.5), {9, 11, 8, 10}},
      {"sigmoid", opts("sigmoid", false, 1.25), {6, 8, 7, 5}},
      {"zero_token_rank", opts("softmax", false, 1.0), {0, 12, 0, 9}},
      {"zero_token_experts", opts("softmax", true, 1.0), {8, 6, 7, 9}, true},
  };
}

struct EpReference {
  std::map<std::string, torch::Tensor> state, grads;
  torch::Tensor x, probe, out, aux, z, x_grad;
  model::MoeStats stats;
};

inline EpReference ep_reference(const EpCase& c, int ep, torch::Device device) {
  EpReference ref;
  torch::manual_seed(1234);  // the layer's default init: the same on every rank
  model::MoeLayer full(kMoeIn, kMoeHidden, kMoeOut, c.options);
  const int64_t n =
      std::accumulate(c.tokens_per_rank.begin(), c.tokens_per_rank.begin() + ep, int64_t{0});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  ref.x = torch::randn({n, kMoeIn}, gen, torch::kFloat32);
  if (c.starve_last_rank) {
    // Positive inputs and strongly negative gate rows: the last rank's experts never win.
    ref.x = ref.x.abs() + 0.1;
    torch::NoGradGuard no_grad;
    full->router->gate->weight.narrow(0, kMoeExperts - kMoeExperts / ep, kMoeExperts / ep)
        .fill_(-5.0);
  }
  ref.probe = torch::randn({n, kMoeOut}, gen, torch::kFloat32).to(device);
  ref.x = ref.x.to(device);
  full->to(device);
  for (auto& p : full->named_parameters()) ref.state[p.key()] = p.value().detach().clone();
  auto x = ref.x.clone().requires_grad_(true);
  auto out = full->forward(x);
  ((out.output * ref.probe).sum() + out.aux_loss + out.z_loss).backward();
  ref.out = out.output.detach();
  ref.aux = out.aux_loss.detach();
  ref.z = out.z_loss.detach();
  ref.stats = out.stats;
  ref.x_grad = x.grad();
  for (auto& p : full->named_parameters()) ref.grads[p.key()] = p.value().grad().clone();
  return ref;
}

// The world is the expert-parallel group.
inline void ep_case(const CommunicatorPtr& ep, const EpCase& c, const EpReference& ref,
                    torch::Device device, DiffLog& log) {
  const int r = ep->rank();
  const int64_t begin =
      std::accumulate(c.tokens_per_rank.begin(), c.tokens_per_rank.begin() + r, int64_t{0});
  const int64_t n = c.tokens_per_rank[r];
  EpMoeLayer layer(kMoeIn, kMoeHidden, kMoeOut, c.options, ep);
  layer->to(device);
  layer->load_full_state(ref.state);
  auto x = ref.x.narrow(0, begin, n).to(device).clone().requires_grad_(true);
  auto out = layer->forward(x);
  log.check("output", out.output, ref.out.narrow(0, begin, n), c.name + " output");
  log.check("aux_z", out.aux_loss.item<double>(), ref.aux.item<double>(), c.name + " aux");
  log.check("aux_z", out.z_loss.item<double>(), ref.z.item<double>(), c.name + " z");
  auto probe = ref.probe.narrow(0, begin, n).to(device);
  ((out.output * probe).sum() + out.aux_loss + out.z_loss).backward();
  log.check("input_grad", x.grad(), ref.x_grad.narrow(0, begin, n), c.name + " input gradient");
  // Router: replicated; each rank holds its tokens' share, the group's sum is the full gradient.
  auto router_grad = layer->router->gate->weight.grad().clone();
  ep->all_reduce(router_grad, ReduceOp::kSum);
  log.check("router_grad", router_grad, ref.grads.at("router.gate.weight"),
            c.name + " router gradient");
  // Experts: gathered by global expert id (rank q holds experts [q*E/P, (q+1)*E/P)).
  for (auto& p : layer->experts->named_parameters(/*recurse=*/false)) {
    auto g = p.value().grad();
    g = g.defined() ? g : torch::zeros_like(p.value());
    log.check("expert_grads", gather_dim(g, 0, *ep), ref.grads.at("experts." + p.key()),
              c.name + " experts." + p.key());
  }
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  auto kept = torch::tensor(out.stats.tokens_per_expert, torch::kLong).to(long_opts);
  ep->all_reduce(kept, ReduceOp::kSum);
  EXPECT_TRUE(kept.cpu().equal(torch::tensor(ref.stats.tokens_per_expert, torch::kLong))) << c.name;
  auto dropped = torch::tensor({out.stats.dropped}, torch::kLong).to(long_opts);
  ep->all_reduce(dropped, ReduceOp::kSum);
  EXPECT_EQ(dropped.cpu().item<int64_t>(), ref.stats.dropped) << c.name;
}

}  // namespace seller::dist::cases
