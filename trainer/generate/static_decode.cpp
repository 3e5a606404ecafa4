// Fixed-shape greedy decoding, with CUDA-graph replay on GPU (see static_decode.h).
#include "trainer/generate/static_decode.h"

#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <optional>

#if SELLER_HAVE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace seller::generate {
namespace {

// Records one token per unfinished row; returns whether any row is still running.
bool record(const torch::Tensor& ids_host, const SamplingOptions& options,
            std::vector<GenerationResult>& results, std::vector<bool>& done) {
  bool running = false;
  for (size_t i = 0; i < results.size(); ++i) {
    if (done[i]) continue;
    const int64_t tok = ids_host[static_cast<int64_t>(i)][0].item<int64_t>();
    results[i].tokens.push_back(tok);
    const bool eos =
        std::find(options.eos_ids.begin(), options.eos_ids.end(), tok) != options.eos_ids.end();
    results[i].stopped_by_eos = eos;
    done[i] = eos || static_cast<int64_t>(results[i].tokens.size()) >= options.max_new_tokens;
    running = running || !done[i];
  }
  return running;
}

}  // namespace

void run_static_greedy(model::Decoder& decoder, model::KvCache& cache,
                       const std::vector<int64_t>& first_tokens, torch::Tensor positions,
                       const SamplingOptions& options, std::vector<GenerationResult>& results) {
  torch::NoGradGuard no_grad;
  const auto device = cache.slot_valid.device();
  const auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(device);
  std::vector<bool> done(results.size(), false);
  auto ids = torch::tensor(first_tokens, torch::kLong).view({-1, 1}).to(device);
  if (!record(ids.cpu(), options, results, done)) return;
  positions = positions.to(long_opts).view({-1, 1}).contiguous();
  cache.write_index = torch::full({1}, cache.length, long_opts);

  // One step: in-place updates of ids, positions and the write slot.
  auto step = [&] {
    model::DecoderInput in;
    in.input_ids = ids;
    in.positions = positions;
    in.cache = &cache;
    auto logits = decoder->logits(decoder->hidden_states(in)).select(1, 0);
    ids.copy_(logits.argmax(-1, /*keepdim=*/true));
    positions.add_(1);
    cache.write_index.add_(1);
  };
  const int64_t steps = options.max_new_tokens - 1;  // the first token came from the prefill

#if SELLER_HAVE_CUDA
  if (device.is_cuda() && options.cuda_graph) {
    // Capture needs a side stream; two eager steps first warm up cuBLAS/SDPA workspaces (and
    // are real steps of the generation).
    auto stream = c10::cuda::getStreamFromPool(false, device.index());
    c10::cuda::CUDAStreamGuard guard(stream);
    int64_t done_steps = 0;
    for (; done_steps < std::min<int64_t>(2, steps); ++done_steps) {
      step();
      if (!record(ids.cpu(), options, results, done)) break;
    }
    if (done_steps < steps && std::any_of(done.begin(), done.end(), [](bool d) { return !d; })) {
      at::cuda::CUDAGraph graph;
      graph.capture_begin();
      step();  // recorded, not run
      graph.capture_end();
      for (; done_steps < steps; ++done_steps) {
        graph.replay();
        if (!record(ids.cpu(), options, results, done)) break;
      }
    }
    cache.length += done_steps;
    cache.write_index = torch::Tensor();
    return;
  }
#endif
  int64_t done_steps = 0;
  for (; done_steps < steps; ++done_steps) {
    step();
    if (!record(ids.cpu(), options, results, done)) {
      ++done_steps;
      break;
    }
  }
  cache.length += done_steps;
  cache.write_index = torch::Tensor();
}

}  // namespace seller::generate
