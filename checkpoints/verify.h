// Verification of a checkpoint folder: the COMMITTED marker, the manifest's structure, every
// chunk file (present, its size as listed, a valid safetensors file) and every chunk (its dtype
// and shape, crc32 of its bytes). Each problem is one line naming the file. Used by resume (to
// skip a bad checkpoint) and by `seller ckpt verify`. Torch-free.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "checkpoints/manifest.h"

namespace seller::ckpt {

struct VerifyReport {
  std::vector<std::string> problems;  // "<file>: <what is wrong>"
  int64_t files = 0, chunks = 0;
  uint64_t bytes = 0;
  bool ok() const { return problems.empty(); }
};

// checksums = false checks everything but the crc32 of the data (fast; used for listing).
VerifyReport verify_checkpoint(const std::filesystem::path& dir, bool checksums = true);

// The problem of `report` as one message (first few problems), for exceptions.
std::string summarize(const VerifyReport& report);

}  // namespace seller::ckpt
