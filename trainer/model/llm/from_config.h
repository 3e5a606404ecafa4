// The decoder described by the `llm:` config section: a fresh, randomly initialised model for
// training from scratch, or a Hugging Face folder's model (llm.init = hf).
#pragma once

#include <torch/types.h>

#include "trainer/core/config.h"
#include "trainer/model/llm/decoder.h"

namespace seller::model {

DecoderConfig decoder_config_from(const core::LlmConfig& llm);

// init = scratch: decoder_config_from(llm) initialised with normal(0, llm.init_std) from `seed`;
// init = hf: load_hf_decoder(llm.hf_dir).
Decoder build_decoder(const core::LlmConfig& llm, uint64_t seed, torch::Device device,
                      torch::ScalarType dtype);

}  // namespace seller::model
