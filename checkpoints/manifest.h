// The manifest of a seller checkpoint (<run>/checkpoints/step-000001234/manifest.json): what a
// checkpoint holds and where each byte lives, so that any parallel layout can read it back.
//
// Invariants (checked by parse_manifest, which names the file and the field on a violation):
// - format == "seller-checkpoint" and version <= kManifestVersion;
// - layout.world == dp * tp * ep, every value >= 1;
// - every tensor has a known safetensors dtype and a non-negative global shape; its chunks are
//   boxes (offset, shape) inside the global shape, each in a file listed in `files`, with the
//   crc32 and byte count of its data; the chunks of a tensor tile it exactly (no hole, no overlap:
//   checked by volume and pairwise disjointness);
// - tensor names are unique; a file holds at most one chunk of a tensor (the chunk files are
//   safetensors whose keys are the tensor names).
// The train state (step, data cursor, schedule, RNG seeds, MoE statistics, ...) is an opaque JSON
// object here: trainer/train/train_state.h gives it meaning. Torch-free.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/io/safetensors_dtype.h"

namespace seller::ckpt {

inline constexpr int64_t kManifestVersion = 1;
inline constexpr const char* kManifestName = "manifest.json";
inline constexpr const char* kCommittedName = "COMMITTED";

// Parallel layout of the run that wrote the checkpoint. Rank order: tp innermost, then ep, dp.
struct Layout {
  int64_t dp = 1, tp = 1, ep = 1;
  int64_t world() const { return dp * tp * ep; }
  std::string describe() const;  // "dp=1,tp=1,ep=1"
  bool operator==(const Layout&) const = default;
};
// Parses "dp=4,tp=2,ep=1" (missing keys = 1). ConfigError naming the text on a bad spec.
Layout parse_layout(std::string_view spec);

struct ChunkEntry {
  std::string file;             // chunk file name inside the checkpoint folder
  std::vector<int64_t> offset;  // start of the chunk in the global tensor, one per dim
  std::vector<int64_t> shape;   // the chunk's shape (same rank as the global shape)
  uint32_t crc32 = 0;           // zlib crc32 of the chunk's bytes (C order, little-endian)
  uint64_t bytes = 0;
  int64_t numel() const;
};

struct TensorEntry {
  std::string name;
  io::DType dtype = io::DType::kF32;
  std::vector<int64_t> shape;  // global shape
  std::vector<ChunkEntry> chunks;
  int64_t numel() const;
  uint64_t nbytes() const;
};

struct FileEntry {
  std::string name;
  int64_t rank = 0;  // the rank that wrote it
  uint64_t bytes = 0;
};

struct Manifest {
  int64_t version = kManifestVersion;
  int64_t step = 0;
  std::string config_yaml;  // the resolved config of the run
  std::string config_hash;  // config_hash(config_yaml)
  Layout layout;
  std::vector<FileEntry> files;
  std::vector<TensorEntry> tensors;  // sorted by name
  nlohmann::json train_state = nlohmann::json::object();
  std::string created;  // UTC time of the save, for people

  const TensorEntry* find(std::string_view name) const;
  uint64_t total_bytes() const;
  nlohmann::json to_json() const;
};

// `source` names the file in errors (FormatError).
Manifest parse_manifest(const nlohmann::json& j, const std::string& source);
// Reads <dir>/manifest.json; DataError when missing, FormatError when malformed.
Manifest read_manifest(const std::filesystem::path& dir);

// "fnv1a64:<16 hex>" of the config text without its `checkpoint:` and `run:` sections (how and
// when to save, and where the run folder is, do not change what is trained: resume=PATH,
// every_steps or run.name may differ between a checkpoint and the run that resumes it).
std::string config_hash(std::string_view yaml);

// Check that `chunks` tile a tensor of `shape` (volume and pairwise disjointness); returns the
// problem or an empty string.
std::string check_tiling(const std::vector<int64_t>& shape, const std::vector<ChunkEntry>& chunks);

}  // namespace seller::ckpt
