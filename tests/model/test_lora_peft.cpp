// Parity of seller's LoRA with Hugging Face transformers + peft: a random tiny Llama (attention
// bias, untied) and Qwen3 (q/k norm, tied embeddings) written by transformers, random adapters
// applied here and saved under peft's adapter_model.safetensors names, loaded by peft
// (scripts/oracles/lora_oracle.py fails unless the names cover peft's parameters one to one),
// and the logits of a left-padded batch compared at 1e-5.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <fstream>

#include "tests/support/test_support.h"
#include "trainer/io/safetensors_writer.h"
#include "trainer/model/llm/hf_import.h"
#include "trainer/model/llm/lora.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

LoraOptions options(int64_t rank, double alpha, std::vector<std::string> targets) {
  LoraOptions o;
  o.rank = rank;
  o.alpha = alpha;
  o.targets = std::move(targets);
  return o;
}

// Overwrites every adapter tensor (B included) with N(0, std) so that the deltas matter.
void randomize_adapters(Decoder& d, double std, uint64_t seed) {
  torch::NoGradGuard g;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, t] : lora_state_dict(d)) {
    auto r = torch::empty(t.sizes(), torch::kFloat32);
    r.normal_(0.0, std, gen);
    t.copy_(r);
  }
}

torch::Tensor logits_of(Decoder& d, const torch::Tensor& ids, const torch::Tensor& mask) {
  torch::NoGradGuard g;
  DecoderInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  return d->forward(in);
}

double max_diff_on_mask(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  auto m = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(m).max().item<double>();
}

struct PeftCase {
  const char* family;
  int64_t rank;
  double alpha;
  std::vector<std::string> targets;
};

void PrintTo(const PeftCase& c, std::ostream* os) { *os << c.family; }

class LoraPeft : public ::testing::TestWithParam<PeftCase> {};

TEST_P(LoraPeft, LogitsMatchTransformersWithPeft) {
  SELLER_PYTHON_OR_SKIP(py, "transformers, peft");
  const auto& c = GetParam();
  TempDir work;
  const std::string oracles = std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/";
  const fs::path model_dir = work / c.family;
  auto r = run_command(py + " " + oracles + "hf_decoder_oracle.py make --type " + c.family +
                       " --out " + model_dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto d = load_hf_decoder(model_dir, torch::kCPU, torch::kFloat32);
  apply_lora(d, options(c.rank, c.alpha, c.targets), 11);
  randomize_adapters(d, 0.3, 12);

  // The adapter under peft's saved names, as adapter_model.safetensors holds it.
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorView> views;
  for (auto& [name, t] : lora_state_dict(d)) {
    keep.push_back(t.contiguous());
    io::TensorView v;
    v.name = lora_name_to_peft(name);
    v.dtype = io::DType::kF32;
    v.shape.assign(t.sizes().begin(), t.sizes().end());
    v.data = {static_cast<const std::byte*>(keep.back().data_ptr()), keep.back().nbytes()};
    views.push_back(std::move(v));
  }
  io::write_safetensors(work / "adapter.safetensors", views, {{"format", "pt"}});

  auto ids = torch::tensor({0, 0, 0, 5, 9, 14, 3, 7, 22, 8, 1, 30, 2, 44, 11, 6, 19, 25, 3, 12},
                           torch::kLong)
                 .view({2, 10});
  auto mask = torch::ones({2, 10}, torch::kLong);
  mask[0].narrow(0, 0, 3).zero_();
  auto positions = (mask.cumsum(1) - 1).clamp_min(0);
  auto rows = [](const torch::Tensor& t) {
    std::vector<std::vector<int64_t>> out(t.size(0));
    for (int64_t i = 0; i < t.size(0); ++i)
      for (int64_t j = 0; j < t.size(1); ++j) out[i].push_back(t[i][j].item<int64_t>());
    return out;
  };
  nlohmann::json req = {
      {"input_ids", rows(ids)}, {"attention_mask", rows(mask)}, {"position_ids", rows(positions)}};
  std::ofstream(work / "req.json") << req.dump();
  std::string targets;
  for (const auto& t : c.targets) targets += (targets.empty() ? "" : ",") + t;
  r = run_command(py + " " + oracles + "lora_oracle.py forward --model " + model_dir.string() +
                  " --adapter " + (work / "adapter.safetensors").string() + " --rank " +
                  std::to_string(c.rank) + " --alpha " + std::to_string(c.alpha) + " --targets " +
                  targets + " --request " + (work / "req.json").string() + " --out " +
                  (work / "logits").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto ref = torch::empty(nlohmann::json::parse(std::ifstream(work / "logits.json"))["shape"]
                              .get<std::vector<int64_t>>(),
                          torch::kFloat32);
  std::ifstream bin(work / "logits.bin", std::ios::binary);
  bin.read(static_cast<char*>(ref.data_ptr()), static_cast<std::streamsize>(ref.nbytes()));
  ASSERT_TRUE(bin.good());

  auto ours = logits_of(d, ids, mask);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  const double scale = std::max(1.0, ref.abs().max().item<double>());
  EXPECT_LT(max_diff_on_mask(ours, ref, mask), 1e-5 * scale);
  // Not vacuous: the adapters move the logits far beyond the tolerance.
  Decoder base = load_hf_decoder(model_dir, torch::kCPU, torch::kFloat32);
  EXPECT_GT(max_diff_on_mask(logits_of(base, ids, mask), ref, mask), 1e-2 * scale);
}

INSTANTIATE_TEST_SUITE_P(
    Families, LoraPeft,
    ::testing::Values(PeftCase{"llama",
                               4,
                               8.0,
                               {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                "down_proj"}},
                      PeftCase{"qwen3", 3, 5.0, {"q_proj", "v_proj", "o_proj", "up_proj"}}),
    [](const ::testing::TestParamInfo<PeftCase>& c) { return std::string(c.param.family); });

}  // namespace
}  // namespace seller::model
