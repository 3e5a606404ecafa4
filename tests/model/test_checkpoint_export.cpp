// `seller ckpt export` against its oracle: a checkpoint of a tiny SELLER run (scratch Llama
// LLM) is exported to a Hugging Face folder; the exported LLM weights equal the checkpoint's
// `model/llm.*` tensors bit for bit, the adapter file holds every other model tensor, and Hugging
// Face transformers (scripts/oracles/hf_decoder_oracle.py) computes the same logits as seller's
// decoder on that folder. Also: a LoRA-free export round-trips through seller's own HF loader,
// and an existing output folder is never overwritten.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "tests/support/test_support.h"
#include "trainer/model/llm/hf_import.h"
#include "trainer/model/state_io.h"
#include "trainer/train/train_state.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

const char* kTiny =
    " --set task=seller --set llm.vocab_size=300 --set llm.hidden_size=32"
    " --set llm.intermediate_size=64 --set llm.layers=2 --set llm.heads=2 --set llm.kv_heads=1"
    " --set llm.head_dim=16 --set llm.max_positions=96 --set sasrec.hidden=16"
    " --set sasrec.max_len=8 --set semantic.encoder=learned --set semantic.dim=16"
    " --set adapter.model_dim=24 --set adapter.expert_hidden=32 --set adapter.experts=4"
    " --set train.batch_size=16 --set train.device=cpu --set train.epochs=1"
    " --set train.max_steps=12 --set train.log_every=6";

seller::testing::CommandResult seller(const std::string& args) {
  return run_command(seller::testing::seller_binary() + " " + args);
}

TEST(CheckpointExport, HuggingFaceLoadsTheExportWithTheSameLogits) {
  SELLER_PYTHON_OR_SKIP(py, "transformers");
  TempDir tmp;
  const auto raw = (tmp / "s.jsonl.gz").string(), data = (tmp / "data").string();
  ASSERT_EQ(
      seller("data generate --set synthetic.users=80 --set synthetic.items=40 --output " + raw)
          .exit_code,
      0);
  ASSERT_EQ(
      seller("data prepare --format synthetic --input " + raw + " --output " + data).exit_code, 0);
  const auto r = seller(std::string("train") + kTiny + " --set train.data=" + data +
                        " --set run.output_dir=" + (tmp / "runs").string() + " --set run.name=x");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto ckpt = tmp / "runs" / "x" / "checkpoints" / "step-000000012";
  ASSERT_TRUE(fs::exists(ckpt / "COMMITTED")) << r.output;
  const auto out = tmp / "hf";
  auto e = seller("ckpt export " + ckpt.string() + " --out " + out.string());
  ASSERT_EQ(e.exit_code, 0) << e.output;
  for (const char* f :
       {"config.json", "model.safetensors", "seller_adapter.safetensors", "seller_config.yaml"})
    EXPECT_TRUE(fs::exists(out / f)) << f;
  e = seller("ckpt export " + ckpt.string() + " --out " + out.string());
  EXPECT_EQ(e.exit_code, 1) << "never overwrites: " << e.output;

  // Weights: exactly the checkpoint's.
  seller::train::CheckpointSource src(ckpt);
  const auto llm = seller::model::load_tensors(out / "model.safetensors");
  for (const auto& [name, t] : llm) {  // HF names: "model." + ours, lm_head as is
    const auto ours = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
    EXPECT_TRUE(torch::equal(t, src.tensor("model/llm." + ours))) << name;
  }
  const auto adapter = seller::model::load_tensors(out / "seller_adapter.safetensors");
  size_t non_llm = 0;
  for (const auto& t : src.manifest().tensors)
    if (t.name.rfind("model/", 0) == 0 && t.name.rfind("model/llm.", 0) != 0) {
      ++non_llm;
      ASSERT_TRUE(adapter.count(t.name.substr(6))) << t.name;
      EXPECT_TRUE(torch::equal(adapter.at(t.name.substr(6)), src.tensor(t.name))) << t.name;
    }
  EXPECT_EQ(adapter.size(), non_llm);

  // Logits: transformers on the exported folder vs seller's decoder on the same folder.
  auto decoder = seller::model::load_hf_decoder(out, torch::kCPU, torch::kFloat32);
  const std::vector<std::vector<int64_t>> ids = {{3, 17, 42, 5, 99, 7, 12, 250}};
  nlohmann::json req = {{"input_ids", ids}, {"attention_mask", {{1, 1, 1, 1, 1, 1, 1, 1}}}};
  std::ofstream(tmp / "req.json") << req.dump();
  const auto o = run_command(py + " " + SELLER_SOURCE_DIR +
                             "/scripts/oracles/hf_decoder_oracle.py forward --model " +
                             out.string() + " --request " + (tmp / "req.json").string() +
                             " --out " + (tmp / "logits").string());
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const auto shape = nlohmann::json::parse(std::ifstream(tmp / "logits.json"))["shape"]
                         .get<std::vector<int64_t>>();
  auto ref = torch::empty(shape, torch::kFloat32);
  std::ifstream bin(tmp / "logits.bin", std::ios::binary);
  bin.read(static_cast<char*>(ref.data_ptr()), static_cast<std::streamsize>(ref.nbytes()));
  torch::NoGradGuard g;
  seller::model::DecoderInput in;
  in.input_ids = torch::tensor(ids[0], torch::kLong).unsqueeze(0);
  const auto ours = decoder->forward(in);
  ASSERT_EQ(ours.sizes(), ref.sizes());
  const double diff = (ours - ref).abs().max().item<double>();
  const double scale = std::max(1.0, ref.abs().max().item<double>());
  EXPECT_LT(diff, 1e-5 * scale) << "max |diff| " << diff;
}

}  // namespace
