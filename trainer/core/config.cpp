// Field lists and value constraints of the config sections declared in config.h.
// The doc strings are what `seller --dump-config` prints as comments and what docs/config.md lists.
#include "trainer/core/config.h"

#include <algorithm>
#include <utility>

namespace seller::core {

void DataConfig::visit(FieldVisitor& v) {
  v.choice("on_error", on_error, {"fail", "skip"},
           "malformed input line: fail (stop with file:line) or skip (count and go on)");
  v.field("dedup", dedup, "one review per (user, item) and per (user, time, text)");
  v.choice("split", split, {"leave_one_out", "temporal"},
           "leave_one_out: last = test, second-last = validation; temporal: per-user fractions");
  v.field("valid_fraction", valid_fraction, "temporal split: share of each user's validation");
  v.field("test_fraction", test_fraction, "temporal split: share of each user's test");
  v.field("min_user_interactions", min_user_interactions,
          "users with fewer interactions after de-duplication are dropped");
  v.field("sort_memory_mb", sort_memory_mb, "memory of one external-sort run (MiB)");
  v.field("shard_mb", shard_mb, "target size of one interactions shard (MiB)");
}

void DataConfig::validate(Validator& check) const {
  check.require(valid_fraction >= 0.0 && valid_fraction < 1.0, "valid_fraction", valid_fraction,
                "must be in [0, 1)");
  check.require(test_fraction >= 0.0 && test_fraction < 1.0, "test_fraction", test_fraction,
                "must be in [0, 1)");
  check.require(valid_fraction + test_fraction < 1.0, "test_fraction", test_fraction,
                "valid_fraction + test_fraction must leave room for training (< 1)");
  check.require(min_user_interactions >= 1, "min_user_interactions", min_user_interactions,
                "must be >= 1");
  check.require(sort_memory_mb >= 1 && sort_memory_mb <= 1 << 20, "sort_memory_mb", sort_memory_mb,
                "must be in [1, 1048576]");
  check.require(shard_mb >= 1 && shard_mb <= 1 << 20, "shard_mb", shard_mb,
                "must be in [1, 1048576]");
}

void SyntheticConfig::visit(FieldVisitor& v) {
  v.field("users", users, "number of users");
  v.field("items", items, "number of items");
  v.field("aspects", aspects, "number of item aspects (battery life, fit, scent, ...)");
  v.field("mean_history", mean_history, "mean interactions per user");
  v.field("min_history", min_history, "minimum interactions per user");
  v.field("drift", drift,
          "std of the per-interaction random-walk step of each aspect preference (0 = fixed)");
  v.field("sharpness", sharpness, "inverse temperature of the user's aspect softmax");
  v.field("explore", explore, "probability that an item is picked by popularity alone");
  v.field("seed", seed, "generator seed: the same seed gives byte-identical data");
}

void SyntheticConfig::validate(Validator& check) const {
  check.require(users >= 1, "users", users, "must be >= 1");
  check.require(items >= 2, "items", items, "must be >= 2");
  check.require(aspects >= 4 && aspects <= 32, "aspects", aspects, "must be in [4, 32]");
  check.require(min_history >= 1 && min_history <= items, "min_history", min_history,
                "must be in [1, synthetic.items]");
  check.require(mean_history >= min_history, "mean_history", mean_history,
                "must be >= synthetic.min_history");
  check.require(drift >= 0.0 && drift <= 1.0, "drift", drift, "must be in [0, 1]");
  check.require(sharpness >= 0.0 && sharpness <= 20.0, "sharpness", sharpness,
                "must be in [0, 20]");
  check.require(explore >= 0.0 && explore <= 1.0, "explore", explore, "must be in [0, 1]");
  check.require(seed >= 0, "seed", seed, "must be >= 0");
}

void SamplerConfig::visit(FieldVisitor& v) {
  v.field("shuffle", shuffle, "shuffle the sample order each epoch");
  v.field("seed", seed, "seed of the sample order (independent of the number of ranks)");
  v.field("global_batch", global_batch, "samples per step over all data-parallel ranks");
}

void SamplerConfig::validate(Validator& check) const {
  check.require(global_batch >= 1, "global_batch", global_batch, "must be >= 1");
  check.require(seed >= 0, "seed", seed, "must be >= 0");
}

void LlmConfig::visit(FieldVisitor& v) {
  v.choice("init", init, {"scratch", "hf"}, "scratch: sizes below; hf: load llm.hf_dir");
  v.field("hf_dir", hf_dir, "Hugging Face model folder (init = hf)");
  v.field("vocab_size", vocab_size, "vocabulary size (the tokenizer's)");
  v.field("vocab_multiple", vocab_multiple,
          "init = scratch: the decoder's vocabulary rounded up to a multiple of this (tensor "
          "parallelism needs a multiple of train.tensor_parallel; 64 suits GPU kernels)");
  v.field("hidden_size", hidden_size, "model width");
  v.field("intermediate_size", intermediate_size, "SwiGLU hidden width");
  v.field("layers", layers, "decoder layers");
  v.field("heads", heads, "attention heads");
  v.field("kv_heads", kv_heads, "key/value heads (grouped-query attention)");
  v.field("head_dim", head_dim, "width of one head");
  v.field("max_positions", max_positions, "longest sequence");
  v.field("rope_theta", rope_theta, "RoPE base");
  v.field("rms_norm_eps", rms_norm_eps, "RMSNorm epsilon");
  v.field("tie_embeddings", tie_embeddings, "share input embeddings and output head");
  v.field("qk_norm", qk_norm, "RMSNorm on q and k per head (Qwen3 style)");
  v.field("qkv_bias", qkv_bias, "biases on q/k/v projections (Qwen2 style)");
  v.field("init_std", init_std, "std of the normal initialisation");
  v.choice("attention", attention, {"sdpa", "eager"}, "fused SDPA or the plain reference");
}

void LlmConfig::validate(Validator& check) const {
  check.require(init != "hf" || !hf_dir.empty(), "hf_dir", hf_dir,
                "must be set when llm.init = hf");
  for (auto [name, value] : {std::pair<const char*, int64_t>{"vocab_size", vocab_size},
                             {"hidden_size", hidden_size},
                             {"intermediate_size", intermediate_size},
                             {"layers", layers},
                             {"heads", heads},
                             {"kv_heads", kv_heads},
                             {"head_dim", head_dim},
                             {"max_positions", max_positions}})
    check.require(value >= 1, name, value, "must be >= 1");
  check.require(kv_heads >= 1 && heads % std::max<int64_t>(kv_heads, 1) == 0, "kv_heads", kv_heads,
                "must divide llm.heads");
  check.require(head_dim % 2 == 0, "head_dim", head_dim, "must be even (rotary pairs)");
  check.require(vocab_multiple >= 1, "vocab_multiple", vocab_multiple, "must be >= 1");
  check.require(rope_theta > 0, "rope_theta", rope_theta, "must be > 0");
  check.require(rms_norm_eps > 0, "rms_norm_eps", rms_norm_eps, "must be > 0");
  check.require(init_std > 0, "init_std", init_std, "must be > 0");
}

void GenerateConfig::visit(FieldVisitor& v) {
  v.field("max_new_tokens", max_new_tokens, "most tokens generated per prompt");
  v.field("min_new_tokens", min_new_tokens,
          "EOS is masked until this many tokens were generated (as transformers' min_new_tokens)");
  v.field("greedy", greedy, "greedy decoding (false: sample with the settings below)");
  v.field("temperature", temperature, "sampling temperature (> 0)");
  v.field("top_k", top_k, "sample among the k most likely tokens (0 = all)");
  v.field("top_p", top_p, "nucleus sampling mass in (0, 1] (1 = off)");
  v.field("repetition_penalty", repetition_penalty, "penalty for tokens already present (1 = off)");
  v.field("seed", seed, "sampling seed; a prompt's output does not depend on its batch");
  v.field("batch_size", batch_size, "prompts generated together");
  v.field("add_special_tokens", add_special_tokens, "apply the tokenizer's post-processor (BOS)");
  v.field("device", device, "auto | cpu | cuda | cuda:N");
  v.choice("dtype", dtype, {"auto", "float32", "bfloat16"}, "weights and activations");
}

void GenerateConfig::validate(Validator& check) const {
  check.require(max_new_tokens >= 1, "max_new_tokens", max_new_tokens, "must be >= 1");
  check.require(min_new_tokens >= 0, "min_new_tokens", min_new_tokens, "must be >= 0");
  check.require(temperature > 0, "temperature", temperature, "must be > 0");
  check.require(top_k >= 0, "top_k", top_k, "must be >= 0");
  check.require(top_p > 0 && top_p <= 1, "top_p", top_p, "must be in (0, 1]");
  check.require(repetition_penalty > 0, "repetition_penalty", repetition_penalty, "must be > 0");
  check.require(seed >= 0, "seed", seed, "must be >= 0");
  check.require(batch_size >= 1, "batch_size", batch_size, "must be >= 1");
  const bool device_ok = device == "auto" || device == "cpu" || device == "cuda" ||
                         (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                          device.find_first_not_of("0123456789", 5) == std::string::npos);
  check.require(device_ok, "device", device, "must be auto, cpu, cuda or cuda:N");
}

void SasrecConfig::visit(FieldVisitor& v) {
  v.field("hidden", hidden, "embedding and hidden width");
  v.field("layers", layers, "transformer blocks");
  v.field("heads", heads, "attention heads (must divide sasrec.hidden)");
  v.field("max_len", max_len, "most recent history items the model reads");
  v.field("dropout", dropout, "dropout on embeddings, attention, residuals and feed-forward");
  v.choice("loss", loss, {"ce", "sampled"},
           "ce: cross-entropy over all items; sampled: softmax over the target and shared "
           "uniform negatives (large catalogs)");
  v.field("negatives", negatives, "loss = sampled: negatives per step");
}

void SasrecConfig::validate(Validator& check) const {
  check.require(hidden >= 1, "hidden", hidden, "must be >= 1");
  check.require(layers >= 1, "layers", layers, "must be >= 1");
  check.require(heads >= 1, "heads", heads, "must be >= 1");
  check.require(heads < 1 || hidden % heads == 0, "heads", heads, "must divide sasrec.hidden");
  check.require(max_len >= 1 && max_len <= 4096, "max_len", max_len, "must be in [1, 4096]");
  check.require(dropout >= 0.0 && dropout < 1.0, "dropout", dropout, "must be in [0, 1)");
  check.require(negatives >= 1, "negatives", negatives, "must be >= 1");
}

void TrainConfig::visit(FieldVisitor& v) {
  v.field("data", data, "prepared dataset folder (seller data prepare --output)");
  v.field("epochs", epochs, "most training epochs");
  v.field("batch_size", batch_size, "sequences per step");
  v.field("lr", lr, "AdamW learning rate (peak when warmup_steps > 0)");
  v.field("weight_decay", weight_decay, "AdamW decoupled weight decay");
  v.field("warmup_steps", warmup_steps, "> 0: linear warmup then cosine decay; 0: constant lr");
  v.field("clip", clip, "gradient-norm clipping threshold (0 = off)");
  v.field("eval_every", eval_every, "epochs between validations");
  v.field("patience", patience, "validations without a better NDCG@10 before stopping (0 = off)");
  v.field("device", device, "auto | cpu | cuda | cuda:N");
  v.field("seed", seed, "model init, dropout, batch order and the shuffled-history control");
  v.field("grad_accum", grad_accum, "task = seller: micro-batches per optimizer step");
  v.choice("autocast", autocast, {"auto", "bf16", "off"},
           "task = seller: bf16 autocast (auto: on GPU only)");
  v.field("log_every", log_every, "task = seller: optimizer steps between progress lines");
  v.field("max_steps", max_steps, "task = seller: > 0 stops after this many optimizer steps");
  v.choice("dist_backend", dist_backend, {"auto", "mpi", "nccl"},
           "task = seller, several ranks: data-parallel backend (auto: nccl on GPU, mpi on CPU)");
  v.field("expert_parallel", expert_parallel,
          "task = seller, adapter.kind = moe: ranks per expert-parallel group (divides the ranks "
          "and adapter.experts)");
  v.field("tensor_parallel", tensor_parallel,
          "task = seller: ranks per tensor-parallel group of the LLM (divides the ranks and the "
          "LLM's heads, kv_heads, intermediate_size and vocab_size; llm_mode full or frozen)");
  v.field("zero_stage", zero_stage,
          "task = seller, several data-parallel ranks: 1 = ZeRO-1, each parameter's AdamW state "
          "on one rank (expert_parallel = tensor_parallel = 1); 0 = off");
  v.field("profile_steps", profile_steps,
          "task = seller: > 0 writes a Kineto (Chrome) trace of this many optimizer steps per "
          "rank to <run>/profile/rank-R.json");
  v.field("profile_from", profile_from, "task = seller: the first profiled optimizer step");
}

void TrainConfig::validate(Validator& check) const {
  check.require(epochs >= 1, "epochs", epochs, "must be >= 1");
  check.require(batch_size >= 1, "batch_size", batch_size, "must be >= 1");
  check.require(lr > 0, "lr", lr, "must be > 0");
  check.require(weight_decay >= 0, "weight_decay", weight_decay, "must be >= 0");
  check.require(warmup_steps >= 0, "warmup_steps", warmup_steps, "must be >= 0");
  check.require(clip >= 0, "clip", clip, "must be >= 0 (0 = off)");
  check.require(eval_every >= 1, "eval_every", eval_every, "must be >= 1");
  check.require(patience >= 0, "patience", patience, "must be >= 0 (0 = off)");
  check.require(seed >= 0, "seed", seed, "must be >= 0");
  check.require(grad_accum >= 1, "grad_accum", grad_accum, "must be >= 1");
  check.require(log_every >= 1, "log_every", log_every, "must be >= 1");
  check.require(max_steps >= 0, "max_steps", max_steps, "must be >= 0 (0 = by epochs)");
  check.require(expert_parallel >= 1, "expert_parallel", expert_parallel, "must be >= 1");
  check.require(tensor_parallel >= 1, "tensor_parallel", tensor_parallel, "must be >= 1");
  check.require(zero_stage == 0 || zero_stage == 1, "zero_stage", zero_stage, "must be 0 or 1");
  check.require(profile_steps >= 0, "profile_steps", profile_steps, "must be >= 0 (0 = off)");
  check.require(profile_from >= 0, "profile_from", profile_from, "must be >= 0");
  const bool device_ok = device == "auto" || device == "cpu" || device == "cuda" ||
                         (device.rfind("cuda:", 0) == 0 && device.size() > 5 &&
                          device.find_first_not_of("0123456789", 5) == std::string::npos);
  check.require(device_ok, "device", device, "must be auto, cpu, cuda or cuda:N");
}

void RunConfig::visit(FieldVisitor& v) {
  v.field("name", name, "run name (a folder under output_dir)");
  v.field("output_dir", output_dir, "folder that holds every run");
}

void RunConfig::validate(Validator& check) const {
  check.require(!name.empty() && name.find('/') == std::string::npos, "name", name,
                "must be a non-empty folder name without '/'");
  check.require(!output_dir.empty(), "output_dir", output_dir, "must not be empty");
}

void Config::visit(FieldVisitor& v) {
  v.field("seed", seed, "global seed (model init, dropout); data order has its own seeds");
  v.choice("task", task, {"sasrec", "seller"},
           "what seller train trains: sasrec (next-item baseline) | seller (the SELLER model)");
  v.section("run", run, "run naming and output");
  v.section("data", data, "data preparation");
  v.section("synthetic", synthetic, "built-in synthetic dataset");
  v.section("sampler", sampler, "data-parallel sample order");
  v.section("llm", llm, "decoder-only LLM (from scratch or a Hugging Face folder)");
  v.section("generate", generate, "text generation (seller generate)");
  v.section("sasrec", sasrec, "SASRec next-item model (task = sasrec)");
  v.section("train", train, "training loop (seller train)");
  v.section("seller", seller, "SELLER model: prompts, LLM mode, loss weights (task = seller)");
  v.section("semantic", semantic, "semantic path: item-text encoder (task = seller)");
  v.section("adapter", adapter, "MoE adapter into soft prompts (task = seller)");
  v.section("lora", lora, "LoRA on the LLM (seller.llm_mode = lora)");
  v.section("checkpoint", checkpoint, "resumable checkpoints of seller train (task = seller)");
}

void Config::validate(Validator& check) const {
  check.require(seed >= 0, "seed", seed, "must be >= 0");
  check.require(task != "sasrec" || !train.data.empty(), "train.data", train.data,
                "must name a prepared dataset folder when task = sasrec");
  check.require(
      task != "seller" || seller.llm_mode == "full" || llm.init == "hf", "seller.llm_mode",
      seller.llm_mode,
      "needs llm.init = hf (a frozen or LoRA-tuned LLM must start from pretrained weights)");
  check.require(train.tensor_parallel == 1 || seller.llm_mode != "lora", "train.tensor_parallel",
                train.tensor_parallel,
                "needs seller.llm_mode full or frozen: LoRA has no tensor-parallel form");
}

}  // namespace seller::core
