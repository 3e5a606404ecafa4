// The typed configuration of seller: one struct per YAML section, defaults in the member
// initialisers, the field list in visit() (config.cpp) and value constraints in validate().
// Resolution order: these defaults < YAML files (in the order given) < --set key=value.
// Sections are added by the issue that needs them; an unknown key is always an error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/core/config_checkpoint.h"
#include "trainer/core/config_schema.h"
#include "trainer/core/config_seller.h"

namespace seller::core {

// `data:` how raw records become a prepared dataset (seller data prepare).
struct DataConfig : ConfigSection {
  std::string on_error = "fail";  // fail | skip: what a malformed input line does
  bool dedup = true;
  std::string split = "leave_one_out";  // leave_one_out | temporal
  double valid_fraction = 0.1;          // temporal split only, per user
  double test_fraction = 0.1;           // temporal split only, per user
  int64_t min_user_interactions = 1;    // users with fewer (after dedup) are dropped
  int64_t sort_memory_mb = 256;         // memory of one external-sort run
  int64_t shard_mb = 64;                // target size of one interactions shard

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `synthetic:` the built-in generated dataset (the main job's default data).
struct SyntheticConfig : ConfigSection {
  int64_t users = 2000;
  int64_t items = 800;
  int64_t aspects = 16;
  int64_t mean_history = 20;
  int64_t min_history = 5;
  double drift = 0.3;
  double sharpness = 2.0;
  double explore = 0.1;
  int64_t seed = 7;

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `sampler:` the deterministic data-parallel sample order.
struct SamplerConfig : ConfigSection {
  bool shuffle = true;
  int64_t seed = 1234;
  int64_t global_batch = 256;

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `llm:` the decoder when it is trained from scratch (a Hugging Face folder brings its own).
struct LlmConfig : ConfigSection {
  std::string init = "scratch";  // scratch | hf
  std::string hf_dir;            // init = hf: the Hugging Face model folder
  int64_t vocab_size = 8192;
  int64_t vocab_multiple = 1;  // scratch: vocabulary rounded up to a multiple of this
  int64_t hidden_size = 256;
  int64_t intermediate_size = 688;
  int64_t layers = 4;
  int64_t heads = 8;
  int64_t kv_heads = 4;
  int64_t head_dim = 32;
  int64_t max_positions = 1024;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-5;
  bool tie_embeddings = true;
  bool qk_norm = false;
  bool qkv_bias = false;
  double init_std = 0.02;
  std::string attention = "sdpa";  // sdpa | eager

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `generate:` explanation/text generation (seller generate).
struct GenerateConfig : ConfigSection {
  int64_t max_new_tokens = 64;
  int64_t min_new_tokens = 0;  // EOS is masked until this many tokens were generated
  bool greedy = true;
  double temperature = 1.0;
  int64_t top_k = 0;
  double top_p = 1.0;
  double repetition_penalty = 1.0;
  int64_t seed = 0;
  int64_t batch_size = 16;
  bool add_special_tokens = true;  // the tokenizer's post-processor (e.g. BOS) on each prompt
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  std::string dtype = "auto";      // auto (bf16 on GPU, fp32 on CPU) | float32 | bfloat16

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `run:` where a job writes and how it is named.
struct RunConfig : ConfigSection {
  std::string name = "default";
  std::string output_dir = "runs";

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `sasrec:` the SASRec next-item model (task = sasrec; the SELLER behaviour path).
struct SasrecConfig : ConfigSection {
  int64_t hidden = 64;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t max_len = 50;     // most recent items the model reads
  double dropout = 0.2;     // embedding, attention, residual and feed-forward dropout
  std::string loss = "ce";  // ce (softmax over all items) | sampled (shared uniform negatives)
  int64_t negatives = 256;  // loss = sampled: negatives per step

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `train:` the training loop of `seller train`.
struct TrainConfig : ConfigSection {
  std::string data;  // a prepared dataset folder (seller data prepare)
  int64_t epochs = 200;
  int64_t batch_size = 256;
  double lr = 1e-3;
  double weight_decay = 0.0;
  int64_t warmup_steps = 0;       // > 0: linear warmup, then cosine decay to 0 at the last step
  double clip = 1.0;              // gradient-norm clipping (0 = off)
  int64_t eval_every = 5;         // epochs between validations
  int64_t patience = 10;          // validations without a better NDCG@10 before stopping (0 = off)
  std::string device = "auto";    // auto | cpu | cuda | cuda:N
  int64_t seed = 42;              // model init, dropout, batch order, shuffled control
  int64_t grad_accum = 1;         // micro-batches per optimizer step (task = seller)
  std::string autocast = "auto";  // auto (bf16 on GPU, off on CPU) | bf16 | off (task = seller)
  int64_t log_every = 50;         // optimizer steps between progress lines (task = seller)
  int64_t max_steps = 0;          // > 0: stop after this many optimizer steps (task = seller)
  // Data parallel (task = seller, when started by mpirun/srun/seller launch with several ranks):
  // auto = nccl on CUDA devices, mpi on CPU | mpi | nccl.
  std::string dist_backend = "auto";
  // Expert parallel inside the data-parallel ranks (task = seller, adapter.kind = moe): the
  // adapter's experts are spread over groups of this many ranks (all-to-all between them).
  int64_t expert_parallel = 1;
  int64_t tensor_parallel = 1;
  // ZeRO stage (task = seller, data parallel): 0 = every rank holds the whole AdamW state; 1 =
  // each parameter's state on one rank (trainer/train/optimizer_sharding.h).
  int64_t zero_stage = 0;
  // Kineto trace of optimizer steps [profile_from, profile_from + profile_steps) on every rank
  // (task = seller): <run>/profile/rank-R.json, Chrome trace format. 0 = off.
  int64_t profile_steps = 0;
  int64_t profile_from = 20;

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

struct Config : ConfigSection {
  int64_t seed = 1234;
  std::string task = "seller";  // what `seller train` trains: sasrec | seller
  RunConfig run;
  DataConfig data;
  SyntheticConfig synthetic;
  SamplerConfig sampler;
  LlmConfig llm;
  GenerateConfig generate;
  SasrecConfig sasrec;
  TrainConfig train;
  SellerConfig seller;
  SemanticConfig semantic;
  AdapterConfig adapter;
  LoraConfig lora;
  CheckpointConfig checkpoint;

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

}  // namespace seller::core
