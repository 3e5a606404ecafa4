// The LLM training modes of the SELLER model through `seller train`, starting from the pretrained
// stories260K Llama: frozen leaves every LLM weight bit-identical to the Hugging Face file, LoRA
// (merged into the weights when the run is saved) changes exactly the targeted projections, and
// full fine-tuning changes the rest too. Needs ../shared/models/stories260K-hf.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/support/test_support.h"
#include "trainer/io/safetensors_reader.h"

namespace {
namespace fs = std::filesystem;
using seller::testing::run_command;
using seller::testing::TempDir;

seller::testing::CommandResult seller(const std::string& args) {
  return run_command(seller::testing::seller_binary() + " " + args);
}

bool same_bytes(const seller::io::TensorView& a, const seller::io::TensorView& b) {
  return a.shape == b.shape && a.dtype == b.dtype && a.data.size() == b.data.size() &&
         std::memcmp(a.data.data(), b.data.data(), a.data.size()) == 0;
}

nlohmann::json start_line(const fs::path& run) {
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  std::getline(in, line);
  return nlohmann::json::parse(line);
}

TEST(SellerModes, FrozenLoraAndFullTouchExactlyTheirWeights) {
  if (seller("--version").output.find("torch=on") == std::string::npos)
    GTEST_SKIP() << "seller built without LibTorch: no seller train";
  SELLER_SHARED_OR_SKIP(hf, "models/stories260K-hf");
  TempDir tmp;
  ASSERT_EQ(seller("data generate --set synthetic.users=120 --set synthetic.items=60 --output " +
                   (tmp / "s.jsonl.gz").string())
                .exit_code,
            0);
  ASSERT_EQ(seller("data prepare --format synthetic --input " + (tmp / "s.jsonl.gz").string() +
                   " --output " + (tmp / "data").string())
                .exit_code,
            0);
  const auto base = seller::io::SafetensorsFile::open(hf / "model.safetensors");
  const std::string common =
      "train --set task=seller --set llm.init=hf --set llm.hf_dir=" + hf.string() +
      " --set train.data=" + (tmp / "data").string() +
      " --set run.output_dir=" + (tmp / "runs").string() +
      " --set semantic.encoder=learned --set semantic.dim=16 --set sasrec.hidden=16"
      " --set adapter.model_dim=32 --set adapter.expert_hidden=32 --set train.max_steps=12"
      " --set train.batch_size=16 --set train.lr=0.01 --set train.device=cpu"
      " --set lora.targets=[q_proj,down_proj] --set lora.rank=4";
  for (const std::string mode : {"frozen", "lora", "full"}) {
    const auto r = seller(common + " --set seller.llm_mode=" + mode + " --set run.name=" + mode);
    ASSERT_EQ(r.exit_code, 0) << mode << "\n" << r.output;
    const auto run = tmp / "runs" / mode;
    const auto start = start_line(run);
    const auto total = start["parameters"].get<int64_t>();
    const auto trainable = start["trainable_parameters"].get<int64_t>();
    const auto saved = seller::io::SafetensorsFile::open(run / "model.safetensors");
    int changed = 0, kept = 0;
    for (const auto& name : base.names()) {
      // The run saves the LLM under "llm." with the decoder's names (no "model." prefix).
      std::string ours = name.rfind("model.", 0) == 0 ? name.substr(6) : name;
      const auto mine = saved.find("llm." + ours);
      ASSERT_TRUE(mine.has_value()) << mode << ": llm." << ours << " missing from the run";
      const bool same = same_bytes(base.tensor(name), *mine);
      const bool targeted =
          ours.find("q_proj") != std::string::npos || ours.find("down_proj") != std::string::npos;
      if (mode == "frozen") {
        EXPECT_TRUE(same) << mode << ": " << ours << " changed";
      }
      if (mode == "lora") {
        EXPECT_EQ(same, !targeted) << mode << ": " << ours;
      }
      changed += !same;
      kept += same;
    }
    if (mode == "full") {
      EXPECT_EQ(trainable, total);
      EXPECT_GT(changed, kept) << "full fine-tuning left most LLM weights unchanged";
    } else {
      EXPECT_LT(trainable, total) << mode;
    }
    for (const auto& name : saved.names()) EXPECT_EQ(name.find("lora"), std::string::npos) << name;
  }
}

}  // namespace
