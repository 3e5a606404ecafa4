// Batched KV-cache generation (see generator.h).
// Layout: every row of the batch is [padding | soft prompt | prompt ids], left-padded to the
// longest, so all rows write the cache at the same slot each step; padding slots are masked out
// and positions count real tokens only, which gives each row the logits it would get alone.
#include "trainer/generate/generator.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>

#include "trainer/core/error.h"
#include "trainer/generate/static_decode.h"

namespace seller::generate {

std::vector<GenerationResult> generate(model::Decoder& decoder,
                                       const std::vector<GenerationRequest>& requests,
                                       const SamplingOptions& options) {
  options.validate();
  std::vector<GenerationResult> results(requests.size());
  if (requests.empty() || options.max_new_tokens == 0) return results;
  torch::NoGradGuard no_grad;
  const auto& cfg = decoder->config();
  auto weight = decoder->embed_tokens->weight;
  const auto device = weight.device();
  const auto dtype = weight.scalar_type();
  const int64_t b = static_cast<int64_t>(requests.size());

  std::vector<int64_t> lengths(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& r = requests[i];
    int64_t soft = r.soft_prompt.defined() ? r.soft_prompt.size(0) : 0;
    SELLER_THROW_IF_NOT(!r.soft_prompt.defined() ||
                            (r.soft_prompt.dim() == 2 && r.soft_prompt.size(1) == cfg.hidden_size),
                        Error, "generation request ", i, ": soft prompt must be [K, ",
                        cfg.hidden_size, "]");
    for (int64_t id : r.prompt_ids)
      SELLER_THROW_IF_NOT(id >= 0 && id < cfg.vocab_size, Error, "generation request ", i,
                          ": token id ", id, " outside the vocabulary [0, ", cfg.vocab_size, ")");
    lengths[i] = soft + static_cast<int64_t>(r.prompt_ids.size());
    SELLER_THROW_IF_NOT(lengths[i] > 0, Error, "generation request ", i, " is empty");
  }
  const int64_t prompt_len = *std::max_element(lengths.begin(), lengths.end());
  const int64_t capacity = prompt_len + options.max_new_tokens;
  SELLER_THROW_IF_NOT(capacity <= cfg.max_positions || cfg.rope.type != "default", Error,
                      "prompt (", prompt_len, ") + max_new_tokens (", options.max_new_tokens,
                      ") exceeds the model's max_positions ", cfg.max_positions);

  // Prefill inputs: [B, L, H] embeddings and the [B, L] mask of real slots.
  auto embeds = torch::zeros({b, prompt_len, cfg.hidden_size},
                             torch::TensorOptions().dtype(dtype).device(device));
  auto mask = torch::zeros({b, prompt_len}, torch::TensorOptions().dtype(torch::kLong));
  std::vector<std::vector<int64_t>> seen(requests.size());
  for (int64_t i = 0; i < b; ++i) {
    const auto& r = requests[i];
    int64_t at = prompt_len - lengths[i];
    mask.index_put_({i, torch::indexing::Slice(at, prompt_len)}, 1);
    if (r.soft_prompt.defined()) {
      int64_t k = r.soft_prompt.size(0);
      embeds[i].narrow(0, at, k).copy_(r.soft_prompt.to(device, dtype));
      at += k;
    }
    if (!r.prompt_ids.empty()) {
      auto ids = torch::tensor(r.prompt_ids, torch::kLong).to(device);
      embeds[i].narrow(0, at, ids.size(0)).copy_(decoder->embed(ids));
    }
    seen[i] = r.prompt_ids;
  }
  // The mask of all slots, preallocated: step t uses its first prompt_len + t columns.
  auto full_mask = torch::ones({b, capacity}, torch::TensorOptions().dtype(torch::kLong));
  full_mask.narrow(1, 0, prompt_len).copy_(mask);
  full_mask = full_mask.to(device);
  // Greedy without penalty picks every row's token on the device: one transfer per step; with
  // static decoding it runs fixed-shape steps over a pooled session (CUDA graph on GPU).
  const bool device_argmax = options.greedy && options.repetition_penalty == 1.0;
  const bool use_static = device_argmax && options.static_decode && cfg.rope.type != "dynamic" &&
                          options.min_new_tokens == 0;
  std::shared_ptr<StaticDecodeSession> session;
  model::KvCache local_cache;
  if (use_static) {
    session = acquire_static_session(decoder, b, capacity, dtype, device);
  } else {
    local_cache = model::KvCache::allocate(cfg, b, capacity, dtype, device);
  }
  model::KvCache& cache = use_static ? session_cache(*session) : local_cache;

  std::vector<at::Generator> gens;
  for (int64_t i = 0; i < b; ++i)
    gens.push_back(at::make_generator<at::CPUGeneratorImpl>(
        options.seed * 1000003ULL +
        static_cast<uint64_t>(requests[i].stream >= 0 ? requests[i].stream : i)));

  model::DecoderInput in;
  in.inputs_embeds = embeds;
  in.attention_mask = full_mask.narrow(1, 0, prompt_len);
  in.cache = &cache;
  auto hidden = decoder->hidden_states(in);
  auto logits = decoder->logits(hidden.select(1, prompt_len - 1));
  if (use_static) {
    // Fixed-shape steps over the whole cache (CUDA graph on GPU); rows keep stepping after
    // their EOS, which only costs compute, and their later tokens are dropped.
    auto first = logits.argmax(-1).to(torch::kCPU);
    std::vector<int64_t> first_tokens(static_cast<size_t>(b));
    for (int64_t i = 0; i < b; ++i) first_tokens[i] = first[i].item<int64_t>();
    auto positions = full_mask.narrow(1, 0, prompt_len).sum(1, /*keepdim=*/true);
    run_static_greedy(decoder, *session, first_tokens, positions, options, results);
    return results;
  }

  std::vector<int64_t> active(static_cast<size_t>(b));  // request index of each batch row
  for (int64_t i = 0; i < b; ++i) active[i] = i;
  for (int64_t step = 0; step < options.max_new_tokens && !active.empty(); ++step) {
    std::vector<int64_t> next(active.size());
    std::vector<int64_t> keep_rows;
    torch::Tensor picked, host_logits;
    if (step < options.min_new_tokens && !options.eos_ids.empty()) {
      const auto eos = torch::tensor(options.eos_ids, torch::kLong).to(logits.device());
      logits = logits.index_fill(-1, eos, -std::numeric_limits<float>::infinity());
    }
    if (device_argmax) {
      picked = logits.argmax(-1).to(torch::kCPU);
    } else {
      host_logits = logits.to(torch::kFloat32).cpu();
    }
    for (size_t row = 0; row < active.size(); ++row) {
      const int64_t req = active[row];
      const auto r = static_cast<int64_t>(row);
      int64_t tok = device_argmax ? picked[r].item<int64_t>()
                                  : select_token(host_logits[r], seen[req], options, gens[req]);
      next[row] = tok;
      results[req].tokens.push_back(tok);
      seen[req].push_back(tok);
      bool eos =
          std::find(options.eos_ids.begin(), options.eos_ids.end(), tok) != options.eos_ids.end();
      results[req].stopped_by_eos = eos;
      if (!eos && step + 1 < options.max_new_tokens) keep_rows.push_back(static_cast<int64_t>(row));
    }
    if (keep_rows.empty()) break;
    auto ids = torch::tensor(next, torch::kLong);
    if (keep_rows.size() != active.size()) {
      auto index = torch::tensor(keep_rows, torch::kLong);
      cache.select_rows(index);
      full_mask = full_mask.index_select(0, index.to(device));
      ids = ids.index_select(0, index);
      std::vector<int64_t> still;
      for (int64_t r : keep_rows) still.push_back(active[static_cast<size_t>(r)]);
      active.swap(still);
    }
    model::DecoderInput step_in;
    step_in.input_ids = ids.view({-1, 1}).to(device);
    step_in.attention_mask = full_mask.narrow(1, 0, cache.length + 1);
    step_in.cache = &cache;
    logits = decoder->forward(step_in).select(1, 0);
  }
  return results;
}

}  // namespace seller::generate
