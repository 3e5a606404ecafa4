// Writers of safetensors files, single and sharded, that the reference library and Hugging Face
// transformers load. Layout follows the reference serializer (huggingface/safetensors `prepare`)
// byte for byte: tensors sorted by descending dtype alignment, then by name (so insertion order
// is NOT kept, and every tensor lands at an offset that is a multiple of its element size); the
// header is compact JSON with `__metadata__` first (keys sorted) and then the tensors in data
// order, each as {"dtype","shape","data_offsets"}, padded with spaces to a multiple of 8 bytes.
// Output is written under a temporary name, fsynced and renamed into place (AtomicFile).
//
// Sharded checkpoints follow transformers' save_pretrained: tensors are packed greedily in the
// order given into shards of at most `max_shard_bytes` of tensor data (a larger tensor gets a
// shard of its own), named `<prefix>-00001-of-0000N.safetensors`, and described by
// `<prefix>.safetensors.index.json` = {"metadata": {"total_size": bytes}, "weight_map": {tensor:
// shard}}. The index is written last: it is the commit point of the set. A set that fits in one
// shard is written as `<prefix>.safetensors` without an index, as transformers does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "trainer/io/safetensors_reader.h"

namespace seller::io {

using SafetensorsMetadata = std::map<std::string, std::string>;

// Checks the tensors (unique names, not "__metadata__", non-negative shape, data size ==
// numel * dtype_size) and writes them to `path` atomically. FormatError naming the file and
// the tensor on a bad input; DataError when the file cannot be written.
void write_safetensors(const std::filesystem::path& path, std::span<const TensorView> tensors,
                       const SafetensorsMetadata& metadata = {});

// The exact bytes write_safetensors would put in front of the data (length field + padded
// header), with the order of the data it would write after them.
struct SafetensorsLayout {
  std::string prefix;                    // 8-byte length + header JSON + padding
  std::vector<const TensorView*> order;  // tensors in data order
  uint64_t data_bytes = 0;
};
SafetensorsLayout plan_safetensors(std::span<const TensorView> tensors,
                                   const SafetensorsMetadata& metadata,
                                   std::string_view destination);

struct ShardedWriteResult {
  std::vector<std::filesystem::path> shards;  // in order
  std::filesystem::path index;                // empty when a single file was written
  uint64_t total_size = 0;                    // bytes of tensor data
};

// Writes `tensors` into folder `dir` (created if needed) as described above. `metadata` goes into
// every shard; transformers expects {"format": "pt"} there for PyTorch weights.
ShardedWriteResult write_sharded_safetensors(const std::filesystem::path& dir,
                                             std::span<const TensorView> tensors,
                                             uint64_t max_shard_bytes,
                                             const SafetensorsMetadata& metadata = {},
                                             const std::string& prefix = "model");

}  // namespace seller::io
