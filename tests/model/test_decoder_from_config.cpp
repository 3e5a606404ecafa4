// The `llm:` config section builds the decoder it describes: parameter count from the sizes
// (computed by hand below), seeded initialisation, YAML errors for impossible shapes, and
// init = hf loading the same weights as load_hf_decoder.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/support/test_support.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/model/llm/hf_import.h"

namespace seller::model {
namespace {

TEST(DecoderFromConfig, SizesFromYaml) {
  auto cfg = core::load_config<core::Config>(
      {}, {"llm.vocab_size=100", "llm.hidden_size=32", "llm.intermediate_size=48", "llm.layers=2",
           "llm.heads=4", "llm.kv_heads=2", "llm.head_dim=8", "llm.tie_embeddings=false",
           "llm.qkv_bias=true"});
  auto d = build_decoder(cfg.llm, 7, torch::kCPU, torch::kFloat32);
  int64_t params = 0;
  for (const auto& p : d->parameters()) params += p.numel();
  // embed 100*32 + lm_head 32*100 + final norm 32 + per layer: q 32*32+32, k 32*16+16,
  // v 32*16+16, o 32*32, gate/up 2*32*48, down 48*32, two norms 2*32.
  const int64_t layer = (1024 + 32) + (512 + 16) + (512 + 16) + 1024 + 2 * 1536 + 1536 + 64;
  EXPECT_EQ(params, 3200 + 3200 + 32 + 2 * layer);
  auto again = build_decoder(cfg.llm, 7, torch::kCPU, torch::kFloat32);
  auto other = build_decoder(cfg.llm, 8, torch::kCPU, torch::kFloat32);
  EXPECT_TRUE(torch::equal(d->embed_tokens->weight, again->embed_tokens->weight));
  EXPECT_FALSE(torch::equal(d->embed_tokens->weight, other->embed_tokens->weight));
  EXPECT_NEAR(d->embed_tokens->weight.std().item<double>(), 0.02, 0.003);
}

TEST(DecoderFromConfig, ImpossibleShapesNameTheKey) {
  try {
    core::load_config<core::Config>({}, {"llm.heads=6", "llm.kv_heads=4"});
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'llm.kv_heads' = 4 must divide llm.heads"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(core::load_config<core::Config>({}, {"llm.init=hf"}), ConfigError);
}

TEST(DecoderFromConfig, HfInitLoadsTheFolder) {
  SELLER_SHARED_OR_SKIP(dir, "models/stories260K-hf");
  auto cfg = core::load_config<core::Config>({}, {"llm.init=hf", "llm.hf_dir=" + dir.string()});
  auto d = build_decoder(cfg.llm, 0, torch::kCPU, torch::kFloat32);
  auto ref = load_hf_decoder(dir, torch::kCPU, torch::kFloat32);
  EXPECT_EQ(d->config().vocab_size, 512);
  EXPECT_TRUE(torch::equal(d->embed_tokens->weight, ref->embed_tokens->weight));
}

}  // namespace
}  // namespace seller::model
