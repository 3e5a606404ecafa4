// LLM benchmark (GPU): prefill and decode tokens/s of batched KV-cache generation and
// forward+backward+AdamW training throughput for a TinyLlama-shape decoder (hidden 2048,
// 22 layers, 32 heads, 4 KV heads, FFN 5632, vocab 32000; random weights, bf16), with the
// memory-bandwidth limit of decoding. The HF transformers peer runs on the same card in the same
// job (scripts/bench/bench_llm.sh runs both). Prints figures with the device; never pass/fail.
//
// Usage: bench_llm [--layers N] [--batches 1,16,64] [--prompt 128] [--new 128]
//                  [--train-batch 8] [--train-seq 1024] [--train-steps 10] [--hbm-gbs 3350]
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "trainer/generate/generator.h"
#include "trainer/model/llm/decoder.h"

namespace {

using Clock = std::chrono::steady_clock;
using seller::model::Decoder;
using seller::model::DecoderConfig;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoll(item));
  return out;
}

DecoderConfig tinyllama(int64_t layers) {
  DecoderConfig c;
  c.vocab_size = 32000;
  c.hidden_size = 2048;
  c.intermediate_size = 5632;
  c.num_layers = layers;
  c.num_heads = 32;
  c.num_kv_heads = 4;
  c.head_dim = 64;
  c.max_positions = 2048;
  c.tie_word_embeddings = false;
  c.rms_norm_eps = 1e-5;
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t layers = 22, prompt = 128, fresh = 128, train_batch = 8, train_seq = 1024,
          train_steps = 10;
  double hbm_gbs = 3350.0;  // H100 SXM HBM3 by datasheet; pass --hbm-gbs 4800 for an H200
  std::vector<int64_t> batches = {1, 16, 64};
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--layers") layers = std::stoll(v);
    else if (k == "--batches") batches = parse_list(v);
    else if (k == "--prompt") prompt = std::stoll(v);
    else if (k == "--new") fresh = std::stoll(v);
    else if (k == "--train-batch") train_batch = std::stoll(v);
    else if (k == "--train-seq") train_seq = std::stoll(v);
    else if (k == "--train-steps") train_steps = std::stoll(v);
    else if (k == "--hbm-gbs") hbm_gbs = std::stod(v);
  }
  if (!torch::cuda::is_available()) {
    std::printf("bench_llm: no CUDA device; nothing measured\n");
    return 0;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf("device: %s (%d SMs), LibTorch %s\n", prop.name, prop.multiProcessorCount,
              TORCH_VERSION);
  torch::manual_seed(0);
  const DecoderConfig cfg = tinyllama(layers);
  Decoder d(cfg);
  seller::model::init_decoder_weights(d, 0.02, 1);
  d->to(torch::kCUDA, torch::kBFloat16);
  d->eval();
  int64_t params = 0;
  for (const auto& p : d->parameters()) params += p.numel();
  const double weight_bytes = 2.0 * static_cast<double>(params);
  std::printf("model: %lld parameters (%.2f GB bf16), %lld layers\n",
              static_cast<long long>(params), weight_bytes / 1e9, static_cast<long long>(layers));

  std::printf("\n== generation: prompt %lld, %lld new tokens, greedy, no EOS\n",
              static_cast<long long>(prompt), static_cast<long long>(fresh));
  std::printf("%6s %14s %14s %14s %12s\n", "batch", "prefill tok/s", "decode tok/s",
              "limit tok/s", "of limit");
  for (int64_t b : batches) {
    std::vector<seller::generate::GenerationRequest> reqs;
    for (int64_t i = 0; i < b; ++i) {
      auto ids = torch::randint(3, cfg.vocab_size, {prompt}, torch::kLong);
      reqs.push_back({std::vector<int64_t>(ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + prompt), {}});
    }
    seller::generate::SamplingOptions prefill_only;
    prefill_only.max_new_tokens = 1;
    seller::generate::SamplingOptions full;
    full.max_new_tokens = fresh;
    // Warm-up: also captures the decode graph of this shape, which later calls replay (as the
    // batches of a `seller generate` run do).
    seller::generate::generate(d, reqs, prefill_only);
    seller::generate::generate(d, reqs, full);
    torch::cuda::synchronize();
    auto t0 = Clock::now();
    seller::generate::generate(d, reqs, prefill_only);
    torch::cuda::synchronize();
    const double t_prefill = seconds_since(t0);
    t0 = Clock::now();
    seller::generate::generate(d, reqs, full);
    torch::cuda::synchronize();
    const double t_decode = std::max(1e-9, seconds_since(t0) - t_prefill);
    const double decode_tps = static_cast<double>(b * (fresh - 1)) / t_decode;
    // Bytes read per decode step: all weights once, plus the K/V cache of the batch (mean length).
    const double kv_bytes = 2.0 * 2.0 * static_cast<double>(cfg.num_layers * cfg.num_kv_heads *
                                                            cfg.head_dim * b) *
                            static_cast<double>(prompt + fresh / 2);
    const double limit = static_cast<double>(b) / ((weight_bytes + kv_bytes) / (hbm_gbs * 1e9));
    std::printf("%6lld %14.0f %14.1f %14.0f %11.1f%%\n", static_cast<long long>(b),
                static_cast<double>(b * prompt) / t_prefill, decode_tps, limit,
                100.0 * decode_tps / limit);
  }

  {
    // Pure GPU time of one static decode step (batch 1): 50 back-to-back replays of the captured
    // graph between two CUDA events, no host synchronisation in between.
    torch::NoGradGuard no_grad;
    auto cache = seller::model::KvCache::allocate(cfg, 1, prompt + fresh, torch::kBFloat16,
                                                  torch::kCUDA);
    seller::model::DecoderInput pre;
    pre.input_ids = torch::randint(3, cfg.vocab_size, {1, prompt},
                                   torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
    pre.cache = &cache;
    d->hidden_states(pre);
    auto lopts = torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA);
    auto ids = torch::full({1, 1}, 5, lopts);
    auto pos = torch::full({1, 1}, prompt, lopts);
    cache.write_index = torch::full({1}, prompt, lopts);
    auto step = [&] {
      seller::model::DecoderInput in;
      in.input_ids = ids;
      in.positions = pos;
      in.cache = &cache;
      ids.copy_(d->logits(d->hidden_states(in)).select(1, 0).argmax(-1, true));
    };
    auto stream = c10::cuda::getStreamFromPool(false, 0);
    c10::cuda::CUDAStreamGuard guard(stream);
    step();
    at::cuda::CUDAGraph graph;
    graph.capture_begin();
    step();
    graph.capture_end();
    graph.replay();
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    cudaEventRecord(e0, stream.stream());
    for (int i = 0; i < 50; ++i) graph.replay();
    cudaEventRecord(e1, stream.stream());
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    std::printf("static decode step (batch 1, graph replay, GPU time): %.3f ms; weights alone "
                "need %.3f ms at the bandwidth limit\n",
                ms / 50, weight_bytes / (hbm_gbs * 1e9) * 1e3);
  }

  if (train_steps <= 0) return 0;
  std::printf("\n== training: batch %lld x %lld tokens, bf16 weights, AdamW (LibTorch), %lld steps\n",
              static_cast<long long>(train_batch), static_cast<long long>(train_seq),
              static_cast<long long>(train_steps));
  d->train();
  torch::optim::AdamW opt(d->parameters(), torch::optim::AdamWOptions(1e-4));
  auto ids = torch::randint(0, cfg.vocab_size, {train_batch, train_seq + 1},
                            torch::TensorOptions().dtype(torch::kLong).device(torch::kCUDA));
  auto step = [&] {
    opt.zero_grad();
    seller::model::DecoderInput in;
    in.input_ids = ids.narrow(1, 0, train_seq);
    auto logits = d->forward(in);
    auto loss = torch::nn::functional::cross_entropy(
        logits.reshape({-1, cfg.vocab_size}).to(torch::kFloat32),
        ids.narrow(1, 1, train_seq).reshape({-1}));
    loss.backward();
    opt.step();
    return loss;
  };
  for (int i = 0; i < 2; ++i) step();
  torch::cuda::synchronize();
  auto t0 = Clock::now();
  for (int64_t i = 0; i < train_steps; ++i) step();
  torch::cuda::synchronize();
  const double dt = seconds_since(t0) / static_cast<double>(train_steps);
  const double tokens = static_cast<double>(train_batch * train_seq);
  // Model FLOPs: 6 per parameter per token plus attention 12 * layers * hidden * seq per token.
  const double flops = tokens * (6.0 * static_cast<double>(params) +
                                 12.0 * static_cast<double>(cfg.num_layers * cfg.hidden_size) *
                                     static_cast<double>(train_seq));
  std::printf("step %.1f ms, %.0f tokens/s, %.0f TFLOP/s, MFU %.1f%% of 790 (measured peak), "
              "%.1f%% of 989 (H100 spec), peak memory %.1f GB\n",
              dt * 1e3, tokens / dt, flops / dt / 1e12, 100.0 * flops / dt / 790e12,
              100.0 * flops / dt / 989e12,
              static_cast<double>(c10::cuda::CUDACachingAllocator::getDeviceStats(0)
                                      .allocated_bytes[0].peak) / 1e9);
  return 0;
}
