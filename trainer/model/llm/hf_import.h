// Hugging Face model folders <-> our Decoder: config.json to DecoderConfig, safetensors weights
// (single or sharded) into the parameters, and export back to a folder that transformers opens
// (config.json + model.safetensors with transformers' tensor names).
#pragma once

#include <torch/types.h>

#include <filesystem>

#include "trainer/io/hf_config.h"
#include "trainer/io/safetensors_reader.h"
#include "trainer/model/llm/decoder.h"

namespace seller::model {

// Throws ConfigError for what the decoder does not support (sliding-window layers,
// non-SiLU activations), naming the key.
DecoderConfig decoder_config_from_hf(const io::HfConfig& hf);
io::HfConfig hf_config_from_decoder(const DecoderConfig& config);

// A CPU tensor with the view's dtype and shape. It aliases the mapping when the bytes are
// aligned (valid while the file is open) and is a copy otherwise.
torch::Tensor tensor_from_view(const io::TensorView& view);

// Loads config.json and the weights of a Hugging Face folder onto `device` in `dtype`.
Decoder load_hf_decoder(const std::filesystem::path& dir, torch::Device device,
                        torch::ScalarType dtype);

// Writes config.json and model.safetensors (sharded above max_shard_bytes) into `dir`.
// `base` supplies the fields the decoder does not know (token ids, architectures, ...).
void save_hf_decoder(Decoder& decoder, const io::HfConfig& base, const std::filesystem::path& dir,
                     uint64_t max_shard_bytes = 5ull << 30);

}  // namespace seller::model
