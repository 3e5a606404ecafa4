// Named tensors to and from a safetensors file: how seller saves a trained model's parameters
// (the final weights of a run; resumable sharded checkpoints are checkpoints/'s job). Saving
// copies to CPU and writes atomically through io::write_safetensors; loading copies out of the
// mapping, so the returned tensors outlive the file.
#pragma once

#include <torch/types.h>

#include <filesystem>
#include <map>
#include <string>

#include "trainer/io/safetensors_dtype.h"

namespace seller::model {

// The safetensors dtype of a torch dtype; FormatError naming the tensor for one seller does not
// store (complex, unsigned wider than 8 bits, ...). Shared by run files and checkpoints.
io::DType io_dtype(torch::ScalarType t, const std::string& name);

void save_tensors(const std::filesystem::path& path,
                  const std::map<std::string, torch::Tensor>& tensors,
                  const std::map<std::string, std::string>& metadata = {});

std::map<std::string, torch::Tensor> load_tensors(const std::filesystem::path& path);

// Copies `tensors` into the module's parameters and buffers of the same names (dtype and device
// converted). Names missing on either side or shape mismatches throw seller::FormatError naming
// `origin` and listing them; names in `skip_prefixes` are left alone on both sides.
void load_into(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
               const std::string& origin, const std::vector<std::string>& skip_prefixes = {});

}  // namespace seller::model
