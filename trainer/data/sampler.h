// Deterministic data-parallel sampler. The global order of an epoch is a pseudo-random
// permutation of [0, num_samples) that depends only on (num_samples, seed, epoch), never on the
// number of ranks: a keyed Feistel network over the smallest power-of-4 domain >= num_samples,
// with cycle-walking back into range, so it is a bijection computed in O(1) memory per index.
// Global batch b of an epoch covers positions [b*G, (b+1)*G) of that order; rank r of W takes the
// contiguous slice [b*G + r*G/W, b*G + (r+1)*G/W) (G must be a multiple of W), so the ranks'
// shares are disjoint and their concatenation in rank order is the global batch. The cursor
// (epoch, position) counts global samples, so a job can resume — even with another world size —
// exactly where it stopped.
#pragma once

#include <cstdint>
#include <vector>

namespace seller::data {

struct SamplerOptions {
  uint64_t num_samples = 0;
  uint64_t global_batch_size = 1;
  uint64_t seed = 0;
  bool shuffle = true;    // false: the identity order (for evaluation)
  bool drop_last = true;  // true: an epoch ends when fewer than a global batch remain
};

struct SamplerCursor {
  uint64_t epoch = 0;
  uint64_t position = 0;  // global samples consumed in this epoch
  bool operator==(const SamplerCursor&) const = default;
};

// The epoch's permutation of [0, n) (stateless; what DistributedSampler draws from).
class EpochPermutation {
 public:
  EpochPermutation(uint64_t num_samples, uint64_t seed, uint64_t epoch, bool shuffle = true);
  uint64_t operator()(uint64_t position) const;
  uint64_t size() const { return n_; }

 private:
  uint64_t feistel(uint64_t x) const;

  uint64_t n_;
  bool shuffle_;
  unsigned half_bits_;  // the domain is 2^(2 * half_bits_)
  uint64_t half_mask_;
  uint64_t keys_[6];
};

class DistributedSampler {
 public:
  // ConfigError for num_samples = 0, global_batch_size = 0, world_size = 0, rank >= world_size,
  // a global batch that world_size does not divide, or drop_last with fewer samples than a batch.
  DistributedSampler(const SamplerOptions& options, uint32_t rank, uint32_t world_size);

  // This rank's share of the next global batch; advances the cursor by one global batch (to the
  // next epoch at the epoch's end). With drop_last = false the last batch of an epoch may be
  // short, and the shares are then the floor-division slices of it (possibly empty).
  std::vector<uint64_t> next_batch();
  void next_batch(std::vector<uint64_t>& out);

  // The whole global batch that starts at the cursor (what all ranks together take next).
  std::vector<uint64_t> peek_global_batch() const;

  const SamplerCursor& cursor() const { return cursor_; }
  void set_cursor(const SamplerCursor& cursor);
  uint64_t batches_per_epoch() const;
  uint64_t local_batch_size() const { return options_.global_batch_size / world_size_; }
  const SamplerOptions& options() const { return options_; }

 private:
  uint64_t epoch_end() const;        // the position at which the epoch ends
  SamplerCursor normalized() const;  // the cursor, moved to the next epoch when this one is over

  SamplerOptions options_;
  uint32_t rank_;
  uint32_t world_size_;
  SamplerCursor cursor_;
  EpochPermutation permutation_;  // of epoch permutation_epoch_
  uint64_t permutation_epoch_ = 0;
};

}  // namespace seller::data
