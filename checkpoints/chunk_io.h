// Chunks of global tensors: the bytes one rank contributes to a checkpoint, the box arithmetic
// that moves bytes between chunkings (resume on another layout, offline reshard), and the
// chunk files themselves (safetensors whose keys are the tensor names; one chunk per tensor per
// file). Torch-free: callers hand in bytes and keep them alive through `owner`.
//
// Invariants: a Box has one offset and one extent per dim of the global shape (none for a 0-d
// tensor, which is one element); copy_box copies exactly the intersection of two boxes and never
// touches bytes outside either; split_dim0 gives `parts` boxes that tile the shape in rank order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "checkpoints/manifest.h"
#include "trainer/io/safetensors_dtype.h"

namespace seller::ckpt {

struct Box {
  std::vector<int64_t> offset;
  std::vector<int64_t> shape;
  int64_t numel() const;
};

// One chunk held in memory, ready to be written.
struct ChunkData {
  std::string name;
  io::DType dtype = io::DType::kF32;
  std::vector<int64_t> global_shape;
  Box box;                            // where the bytes sit in the global tensor
  std::span<const std::byte> bytes;   // box.numel() * dtype_size bytes, C order
  std::shared_ptr<const void> owner;  // keeps `bytes` alive (host copy, mapped file, ...)
};

uint32_t crc32_of(std::span<const std::byte> bytes);

// Copies the intersection of `src` (bytes laid out as src.shape) into `dst` (laid out as
// dst.shape); both boxes are in global coordinates. Returns the elements copied.
int64_t copy_box(size_t element_size, const Box& src, std::span<const std::byte> src_bytes,
                 const Box& dst, std::span<std::byte> dst_bytes);

// `parts` boxes along dim 0, sizes ceil(n/parts) first (a part may be empty). A 0-d tensor is
// one box for part 0 and empty boxes for the others. Today's stand-in for every sharding rule
// (DP/ZeRO slices); TP/EP layouts will pass their own boxes to the same writer and reader.
std::vector<Box> split_dim0(const std::vector<int64_t>& shape, int64_t parts);

// "rank-00003.safetensors"
std::string chunk_file_name(int64_t rank);

// Writes `chunks` (non-empty boxes only) to `path` (fsynced, atomically renamed) and returns
// their manifest entries (crc32 and bytes computed here), in the order given.
std::vector<ChunkEntry> write_chunk_file(const std::filesystem::path& path,
                                         std::span<const ChunkData> chunks);

// Reads a box of a tensor described by a manifest out of its chunk files in `dir`, checking the
// crc32 of every chunk it touches (FormatError naming the file). `dst` has box.numel() elements.
class ChunkReader {
 public:
  explicit ChunkReader(std::filesystem::path dir);
  ~ChunkReader();
  ChunkReader(ChunkReader&&) noexcept;
  void read(const TensorEntry& tensor, const Box& box, std::span<std::byte> dst);
  std::vector<std::byte> read_global(const TensorEntry& tensor);
  // Checks one chunk: present in its file with the manifest's dtype and shape, crc32 equal.
  void verify_chunk(const TensorEntry& tensor, const ChunkEntry& chunk);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seller::ckpt
