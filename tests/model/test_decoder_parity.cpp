// Decoder parity with Hugging Face transformers on the same weights (CPU, fp32): the real
// stories260K Llama from ../shared and tiny random Llama (attention bias, llama3 RoPE scaling),
// Qwen2 (q/k/v bias) and Qwen3 (q/k norm, tied embeddings) models that transformers itself
// writes. Also: fused SDPA == eager reference, KV-cache decoding == full forward, padded
// batches == each sequence alone, greedy generation == transformers' generate, and an exported
// folder that transformers loads with the same logits.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <limits>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/generate/generator.h"
#include "trainer/model/llm/hf_import.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

std::string oracle_script() {
  return std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/hf_decoder_oracle.py";
}

void run_oracle(const std::string& py, const std::string& args) {
  auto r = run_command(py + " " + oracle_script() + " " + args);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

torch::Tensor to_tensor(const std::vector<std::vector<int64_t>>& rows) {
  auto t = torch::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())},
                        torch::kLong);
  for (size_t i = 0; i < rows.size(); ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) t[i][j] = rows[i][j];
  return t;
}

// HF logits for a left-padded batch, with the positions our decoder derives from the mask.
torch::Tensor hf_logits(const std::string& py, const fs::path& model, const torch::Tensor& ids,
                        const torch::Tensor& mask, const fs::path& work) {
  auto positions = (mask.cumsum(1) - 1).clamp_min(0);
  nlohmann::json req;
  auto rows = [](const torch::Tensor& t) {
    std::vector<std::vector<int64_t>> out(t.size(0));
    for (int64_t i = 0; i < t.size(0); ++i)
      for (int64_t j = 0; j < t.size(1); ++j) out[i].push_back(t[i][j].item<int64_t>());
    return out;
  };
  req["input_ids"] = rows(ids);
  req["attention_mask"] = rows(mask);
  req["position_ids"] = rows(positions);
  std::ofstream(work / "req.json") << req.dump();
  run_oracle(py, "forward --model " + model.string() + " --request " +
                     (work / "req.json").string() + " --out " + (work / "logits").string());
  auto shape = nlohmann::json::parse(std::ifstream(work / "logits.json"))["shape"]
                   .get<std::vector<int64_t>>();
  auto out = torch::empty(shape, torch::kFloat32);
  std::ifstream bin(work / "logits.bin", std::ios::binary);
  bin.read(static_cast<char*>(out.data_ptr()), static_cast<std::streamsize>(out.nbytes()));
  EXPECT_TRUE(bin.good());
  return out;
}

// A left-padded batch of three sequences of different lengths.
std::pair<torch::Tensor, torch::Tensor> padded_batch(int64_t vocab) {
  std::vector<std::vector<int64_t>> ids = {{0, 0, 0, 5, 9, 14, 3, 7, 22, 8},
                                           {1, 30, 2, 44, 11, 6, 19, 25, 3, 12},
                                           {0, 0, 0, 0, 0, 0, 17, 4, 31, 9}};
  std::vector<std::vector<int64_t>> mask = {{0, 0, 0, 1, 1, 1, 1, 1, 1, 1},
                                            {1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
                                            {0, 0, 0, 0, 0, 0, 1, 1, 1, 1}};
  for (auto& r : ids)
    for (auto& v : r) v %= vocab;
  return {to_tensor(ids), to_tensor(mask)};
}

void expect_close_on_mask(const torch::Tensor& ours, const torch::Tensor& ref,
                          const torch::Tensor& mask, double tol) {
  ASSERT_EQ(ours.sizes(), ref.sizes());
  auto m = mask.to(torch::kBool).unsqueeze(-1).expand_as(ours);
  auto diff = (ours - ref).abs().masked_select(m);
  double max_diff = diff.max().item<double>();
  double scale = ref.abs().masked_select(m).max().item<double>();
  EXPECT_LT(max_diff, tol * std::max(1.0, scale))
      << "max |diff| " << max_diff << ", max |ref| " << scale;
}

torch::Tensor our_logits(Decoder& d, const torch::Tensor& ids, const torch::Tensor& mask) {
  torch::NoGradGuard g;
  DecoderInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  return d->forward(in);
}

TEST(DecoderParity, Stories260KMatchesTransformers) {
  SELLER_SHARED_OR_SKIP(model_dir, "models/stories260K-hf");
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  TempDir work;
  auto d = load_hf_decoder(model_dir, torch::kCPU, torch::kFloat32);
  auto [ids, mask] = padded_batch(512);
  auto ref = hf_logits(py, model_dir, ids, mask, work.path());
  expect_close_on_mask(our_logits(d, ids, mask), ref, mask, 1e-5);
}

class RandomHfModel : public ::testing::TestWithParam<const char*> {};

TEST_P(RandomHfModel, MatchesTransformers) {
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  TempDir work;
  const fs::path model_dir = work / GetParam();
  run_oracle(py, std::string("make --type ") + GetParam() + " --out " + model_dir.string());
  auto d = load_hf_decoder(model_dir, torch::kCPU, torch::kFloat32);
  auto [ids, mask] = padded_batch(d->config().vocab_size);
  auto ref = hf_logits(py, model_dir, ids, mask, work.path());
  expect_close_on_mask(our_logits(d, ids, mask), ref, mask, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Families, RandomHfModel,
                         ::testing::Values("llama", "llama3", "qwen2", "qwen3"));

TEST(DecoderParity, ExportedFolderLoadsInTransformers) {
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  TempDir work;
  run_oracle(py, "make --type qwen3 --out " + (work / "src").string());
  auto d = load_hf_decoder(work / "src", torch::kCPU, torch::kFloat32);
  {
    torch::NoGradGuard g;  // perturb so that the export cannot pass by copying files
    for (auto& p : d->parameters()) p.add_(0.01);
  }
  save_hf_decoder(d, io::load_hf_config(work / "src"), work / "exported");
  auto [ids, mask] = padded_batch(d->config().vocab_size);
  auto ref = hf_logits(py, work / "exported", ids, mask, work.path());
  expect_close_on_mask(our_logits(d, ids, mask), ref, mask, 1e-5);
}

TEST(Decoder, SdpaEqualsEagerAndPaddingIsInvisible) {
  DecoderConfig c;
  c.vocab_size = 61;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.tie_word_embeddings = false;
  Decoder sdpa(c);
  init_decoder_weights(sdpa, 0.2, 3);
  c.attention_impl = "eager";
  Decoder eager(c);
  eager->load_hf_state_dict(sdpa->hf_state_dict());
  auto [ids, mask] = padded_batch(c.vocab_size);
  auto a = our_logits(sdpa, ids, mask), b = our_logits(eager, ids, mask);
  expect_close_on_mask(a, b, mask, 1e-5);
  // Row 2 alone (no padding) equals its padded version.
  auto alone =
      our_logits(sdpa, ids[2].narrow(0, 6, 4).unsqueeze(0), torch::ones({1, 4}, torch::kLong));
  EXPECT_LT((alone[0] - a[2].narrow(0, 6, 4)).abs().max().item<double>(), 1e-5);
  // Without mask the causal fast path equals the masked path on a full row.
  torch::NoGradGuard g;
  DecoderInput in;
  in.input_ids = ids[1].unsqueeze(0);
  EXPECT_LT((sdpa->forward(in)[0] - a[1]).abs().max().item<double>(), 1e-5);
}

TEST(Decoder, KvCacheDecodingEqualsFullForward) {
  DecoderConfig c;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.intermediate_size = 40;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 1;
  c.head_dim = 8;
  c.qk_norm = true;
  Decoder d(c);
  init_decoder_weights(d, 0.2, 5);
  torch::NoGradGuard g;
  auto [ids, mask] = padded_batch(c.vocab_size);
  auto full = our_logits(d, ids, mask);
  auto cache = KvCache::allocate(c, 3, 16, torch::kFloat32, torch::kCPU);
  DecoderInput pre;
  pre.input_ids = ids.narrow(1, 0, 7);
  pre.attention_mask = mask.narrow(1, 0, 7);
  pre.cache = &cache;
  auto got = d->forward(pre);
  EXPECT_LT((got - full.narrow(1, 0, 7))
                .abs()
                .masked_select(mask.narrow(1, 0, 7).to(torch::kBool).unsqueeze(-1).expand_as(got))
                .max()
                .item<double>(),
            1e-5);
  for (int64_t t = 7; t < 10; ++t) {
    DecoderInput step;
    step.input_ids = ids.narrow(1, t, 1);
    step.attention_mask = mask.narrow(1, 0, t + 1);
    step.cache = &cache;
    auto l = d->forward(step);
    EXPECT_LT((l.select(1, 0) - full.select(1, t)).abs().max().item<double>(), 1e-5) << "t=" << t;
  }
  EXPECT_EQ(cache.length, 10);
}

// A random 1-layer decoder (16 wide, 2 heads, 2 kv heads) for the generation tests.
Decoder one_layer_decoder(int64_t vocab, uint64_t seed) {
  DecoderConfig c;
  c.vocab_size = vocab;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_layers = 1;
  c.num_heads = 2;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  Decoder d(c);
  init_decoder_weights(d, 0.5, seed);
  return d;
}

// Greedy generation of stories260K by transformers.generate (the oracle) and by seller (batched
// with padding), EOS = 2; `min_new` as transformers' min_new_tokens.
void expect_greedy_like_transformers(const std::filesystem::path& model_dir, const std::string& py,
                                     const std::vector<std::vector<int64_t>>& prompts,
                                     int64_t max_new, int64_t min_new) {
  TempDir work;
  nlohmann::json req;
  req["prompts"] = prompts;
  req["max_new_tokens"] = max_new;
  req["min_new_tokens"] = min_new;
  std::ofstream(work / "greedy.json") << req.dump();
  run_oracle(py, "greedy --model " + model_dir.string() + " --request " +
                     (work / "greedy.json").string() + " --out " + (work / "out.json").string());
  auto ref = nlohmann::json::parse(std::ifstream(work / "out.json"))["outputs"]
                 .get<std::vector<std::vector<int64_t>>>();
  auto d = load_hf_decoder(model_dir, torch::kCPU, torch::kFloat32);
  std::vector<generate::GenerationRequest> reqs;
  for (auto& p : prompts) reqs.push_back({p, {}});
  generate::SamplingOptions opt;
  opt.max_new_tokens = max_new;
  opt.min_new_tokens = min_new;
  opt.eos_ids = {2};
  auto out = generate::generate(d, reqs, opt);
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(out[i].tokens, ref[i]) << "prompt " << i;
    EXPECT_GE(static_cast<int64_t>(out[i].tokens.size()), min_new) << "prompt " << i;
  }
}

TEST(Generation, GreedyMatchesTransformersGenerate) {
  SELLER_SHARED_OR_SKIP(model_dir, "models/stories260K-hf");
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  expect_greedy_like_transformers(
      model_dir, py, {{1, 403, 407, 261, 378}, {1, 79}, {1, 318, 333, 261, 430, 282, 370, 266}},
      200, 0);
}

// min_new_tokens masks EOS for the first N steps, as transformers'
// MinNewTokensLengthLogitsProcessor does: same tokens as transformers.generate(min_new_tokens=N) on
// stories260K, and on a random decoder whose first greedy token is declared EOS, no output shorter
// than N.
TEST(Generation, MinNewTokensMatchesTransformersAndHoldsBackEos) {
  {
    Decoder d = one_layer_decoder(30, 5);
    const std::vector<generate::GenerationRequest> reqs = {{{1, 2, 3}, {}}, {{4}, {}}};
    generate::SamplingOptions opt;
    opt.max_new_tokens = 8;
    const auto free_run = generate::generate(d, reqs, opt);
    opt.eos_ids = {free_run[0].tokens[0]};  // row 0 would stop at once
    const auto stopped = generate::generate(d, reqs, opt);
    ASSERT_EQ(stopped[0].tokens.size(), 1u);
    EXPECT_TRUE(stopped[0].stopped_by_eos);
    opt.min_new_tokens = 4;
    const auto held = generate::generate(d, reqs, opt);
    for (size_t i = 0; i < reqs.size(); ++i) {
      ASSERT_GE(held[i].tokens.size(), 4u) << "row " << i;
      for (size_t t = 0; t < 3; ++t) EXPECT_NE(held[i].tokens[t], opt.eos_ids[0]) << i << "," << t;
    }
    // The first token is the argmax over the logits without the EOS id (an independent forward).
    model::DecoderInput in;
    in.input_ids = torch::tensor({1, 2, 3}, torch::kLong).unsqueeze(0);
    auto logits = d->forward(in).select(1, 2).squeeze(0);
    logits[opt.eos_ids[0]] = -std::numeric_limits<float>::infinity();
    EXPECT_EQ(held[0].tokens[0], logits.argmax().item<int64_t>());
  }
  SELLER_SHARED_OR_SKIP(model_dir, "models/stories260K-hf");
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  expect_greedy_like_transformers(model_dir, py, {{1, 403, 407, 261, 378}, {1, 79}}, 120, 100);
}

TEST(Generation, SamplingIsSeededAndBatchIndependent) {
  Decoder d = one_layer_decoder(40, 11);
  generate::SamplingOptions opt;
  opt.greedy = false;
  opt.temperature = 1.3;
  opt.top_k = 20;
  opt.top_p = 0.9;
  opt.repetition_penalty = 1.2;
  opt.max_new_tokens = 12;
  opt.seed = 99;
  std::vector<generate::GenerationRequest> two = {{{1, 2, 3}, {}}, {{4, 5}, {}}};
  auto a = generate::generate(d, two, opt);
  auto b = generate::generate(d, two, opt);
  EXPECT_EQ(a[0].tokens, b[0].tokens);
  EXPECT_EQ(a[1].tokens, b[1].tokens);
  auto alone = generate::generate(d, {two[0]}, opt);
  EXPECT_EQ(alone[0].tokens, a[0].tokens);
  // A request keeps its stream wherever it sits in the batch.
  auto second_alone = two[1];
  second_alone.stream = 1;
  auto moved = generate::generate(d, {second_alone}, opt);
  EXPECT_EQ(moved[0].tokens, a[1].tokens);
  opt.seed = 100;
  auto other = generate::generate(d, two, opt);
  EXPECT_TRUE(other[0].tokens != a[0].tokens || other[1].tokens != a[1].tokens);
  // top_k = 1 is greedy whatever the temperature.
  opt.top_k = 1;
  auto k1 = generate::generate(d, two, opt);
  generate::SamplingOptions greedy;
  greedy.max_new_tokens = 12;
  greedy.repetition_penalty = 1.2;
  auto g = generate::generate(d, two, greedy);
  EXPECT_EQ(k1[0].tokens, g[0].tokens);
  EXPECT_EQ(k1[1].tokens, g[1].tokens);
}

TEST(Generation, StaticStepsEqualDynamicDecoding) {
  DecoderConfig c;
  c.vocab_size = 30;
  c.hidden_size = 32;
  c.intermediate_size = 40;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.qk_norm = true;
  Decoder d(c);
  init_decoder_weights(d, 0.4, 21);
  std::vector<generate::GenerationRequest> reqs = {
      {{1, 2, 3, 4, 5, 6}, {}}, {{7}, {}}, {{8, 9, 10}, {}}};
  generate::SamplingOptions dynamic;
  dynamic.max_new_tokens = 25;
  dynamic.static_decode = false;
  dynamic.eos_ids = {3};  // likely to end some rows early on this small vocabulary
  generate::SamplingOptions fixed = dynamic;
  fixed.static_decode = true;
  auto a = generate::generate(d, reqs, dynamic);
  auto b = generate::generate(d, reqs, fixed);
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << "row " << i;
    EXPECT_EQ(a[i].stopped_by_eos, b[i].stopped_by_eos) << "row " << i;
  }
}

TEST(Generation, SoftPromptEqualsItsTokenEmbeddings) {
  DecoderConfig c;
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_layers = 2;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 8;
  Decoder d(c);
  init_decoder_weights(d, 0.5, 12);
  generate::SamplingOptions opt;
  opt.max_new_tokens = 8;
  auto soft = d->embed(torch::tensor({7, 8, 9}, torch::kLong)).detach();
  auto as_ids = generate::generate(d, {{{7, 8, 9, 3}, {}}}, opt);
  auto as_soft = generate::generate(d, {{{3}, soft}}, opt);
  EXPECT_EQ(as_ids[0].tokens, as_soft[0].tokens);
}

TEST(Decoder, RejectsImpossibleShapes) {
  DecoderConfig c;
  c.num_heads = 6;
  c.num_kv_heads = 4;
  EXPECT_THROW(c.validate(), ConfigError);
  c.num_kv_heads = 3;
  c.head_dim = 7;
  EXPECT_THROW(c.validate(), ConfigError);
}

}  // namespace
}  // namespace seller::model
