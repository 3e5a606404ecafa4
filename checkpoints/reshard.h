// Offline re-chunking of a committed checkpoint for another parallel layout: every global
// tensor (parameters, optimizer moments, best-so-far weights, per-rank RNG rows) is cut into the
// new layout's boxes and the new chunk files, manifest and COMMITTED marker are written into a
// fresh folder (built under a temporary name, renamed into place). Today's rule for every tensor
// is split_dim0 over the new world size; TP/EP layouts will supply their own boxes per tensor
// through `plan`, and the byte movement (copy_box) stays the same. Chunks are read with their
// checksums verified, so a corrupt source never produces a "good" copy. Torch-free.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "checkpoints/chunk_io.h"
#include "checkpoints/manifest.h"

namespace seller::ckpt {

// Boxes of `tensor` for ranks 0..world-1 of `layout` (empty boxes: no chunk on that rank).
using ChunkPlan = std::function<std::vector<Box>(const TensorEntry& tensor, const Layout& layout)>;
std::vector<Box> default_plan(const TensorEntry& tensor, const Layout& layout);

struct ReshardResult {
  Manifest manifest;
  int64_t files = 0;
  uint64_t bytes = 0;
};

// Writes the checkpoint at `src` re-chunked for `to` into `out` (which must not exist).
ReshardResult reshard(const std::filesystem::path& src, const Layout& to,
                      const std::filesystem::path& out, const ChunkPlan& plan = default_plan);

}  // namespace seller::ckpt
