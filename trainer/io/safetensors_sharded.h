// Reader of a sharded safetensors checkpoint (`model.safetensors.index.json` with a weight_map
// from tensor name to shard file, as Hugging Face writes it) that maps each shard only when one
// of its tensors is first asked for. Checked at open: the index is a JSON object with a
// weight_map of strings, no tensor listed twice, shard names are plain file names in the index's
// folder (no path separators, no "..") and every shard exists. Checked when a shard is loaded:
// the shard is a valid safetensors file (SafetensorsFile), holds every tensor the index puts in
// it, and holds no tensor the index does not list or assigns to another shard. Every violation is
// a seller::FormatError naming the index, the shard and the tensor.
//
// Thread-safe: tensor() may be called concurrently; views stay valid for the reader's lifetime
// (shards are never unmapped before the reader is destroyed).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/io/safetensors_reader.h"

namespace seller::io {

class ShardedSafetensors {
 public:
  // `path` is an index file, or a folder holding `model.safetensors.index.json` or, failing
  // that, a single `model.safetensors` (read as a one-shard checkpoint).
  static ShardedSafetensors open(const std::filesystem::path& path);

  ShardedSafetensors();
  ~ShardedSafetensors();
  ShardedSafetensors(ShardedSafetensors&&) noexcept;
  ShardedSafetensors& operator=(ShardedSafetensors&&) noexcept;

  // Every tensor name, sorted.
  std::vector<std::string> names() const;
  bool contains(std::string_view name) const;
  // The shard file that holds `name` (FormatError when absent).
  std::filesystem::path shard_of(std::string_view name) const;
  // The named tensor, loading its shard on first use; FormatError when absent or inconsistent.
  TensorView tensor(std::string_view name) const;
  // Loads and cross-checks every shard.
  void load_all() const;
  // Distinct shard files, in order of first appearance in the sorted weight map.
  std::vector<std::filesystem::path> shard_files() const;
  size_t loaded_shards() const;
  // `metadata.total_size` from the index when present (informational: not checked, since
  // writers disagree on what it counts).
  std::optional<uint64_t> total_size() const;
  const std::filesystem::path& index_path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seller::io
