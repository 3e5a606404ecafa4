// Implementation of EpochPermutation and DistributedSampler (see sampler.h). The round function
// is splitmix64's finaliser keyed per round; six rounds make the permutation look random enough
// for shuffling (this is not cryptography). Cycle-walking needs < 4 steps on average because the
// domain is less than 4x the range.
#include "trainer/data/sampler.h"

#include <algorithm>

#include "trainer/core/error.h"

namespace seller::data {

namespace {
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

EpochPermutation::EpochPermutation(uint64_t num_samples, uint64_t seed, uint64_t epoch,
                                   bool shuffle)
    : n_(num_samples), shuffle_(shuffle) {
  half_bits_ = 1;
  while (half_bits_ < 32 && (uint64_t{1} << (2 * half_bits_)) < n_) ++half_bits_;
  half_mask_ = (uint64_t{1} << half_bits_) - 1;
  uint64_t state = mix64(seed ^ 0x5e11e2d5a3b1ull) ^ mix64(epoch + 0x9e3779b97f4a7c15ull);
  for (uint64_t& k : keys_) {
    state += 0x9e3779b97f4a7c15ull;
    k = mix64(state);
  }
}

uint64_t EpochPermutation::feistel(uint64_t x) const {
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (uint64_t key : keys_) {
    const uint64_t f = mix64(right ^ key) & half_mask_;
    const uint64_t next_right = left ^ f;
    left = right;
    right = next_right;
  }
  return (left << half_bits_) | right;
}

uint64_t EpochPermutation::operator()(uint64_t position) const {
  SELLER_CHECK(position < n_, "position ", position, " outside [0, ", n_, ")");
  if (!shuffle_) return position;
  uint64_t x = feistel(position);
  while (x >= n_) x = feistel(x);  // cycle-walk: stays a bijection on [0, n)
  return x;
}

DistributedSampler::DistributedSampler(const SamplerOptions& options, uint32_t rank,
                                       uint32_t world_size)
    : options_(options),
      rank_(rank),
      world_size_(world_size),
      permutation_(std::max<uint64_t>(options.num_samples, 1), options.seed, 0, options.shuffle) {
  SELLER_THROW_IF_NOT(options.num_samples > 0, ConfigError, "sampler: the dataset has no samples");
  SELLER_THROW_IF_NOT(options.global_batch_size > 0, ConfigError,
                      "sampler: global batch size must be positive");
  SELLER_THROW_IF_NOT(world_size > 0 && rank < world_size, ConfigError, "sampler: rank ", rank,
                      " is not in a world of ", world_size);
  SELLER_THROW_IF_NOT(options.global_batch_size % world_size == 0, ConfigError,
                      "sampler: global batch size ", options.global_batch_size,
                      " is not divisible by the data-parallel world size ", world_size);
  SELLER_THROW_IF_NOT(!options.drop_last || options.num_samples >= options.global_batch_size,
                      ConfigError, "sampler: ", options.num_samples,
                      " samples do not fill one global batch of ", options.global_batch_size,
                      " (set drop_last off or use a smaller batch)");
}

uint64_t DistributedSampler::epoch_end() const {
  const uint64_t n = options_.num_samples;
  const uint64_t g = options_.global_batch_size;
  return options_.drop_last ? n - n % g : n;
}

uint64_t DistributedSampler::batches_per_epoch() const {
  const uint64_t g = options_.global_batch_size;
  return (epoch_end() + g - 1) / g;
}

void DistributedSampler::set_cursor(const SamplerCursor& cursor) {
  SELLER_THROW_IF_NOT(cursor.position <= options_.num_samples, ConfigError,
                      "sampler: cursor position ", cursor.position, " is past the ",
                      options_.num_samples, " samples of an epoch");
  cursor_ = cursor;
}

SamplerCursor DistributedSampler::normalized() const {
  // A cursor from a run with another batch size may sit mid-way; an epoch is over when not one
  // more full batch (drop_last) or not one more sample fits.
  const uint64_t n = options_.num_samples;
  const bool over = options_.drop_last ? cursor_.position + options_.global_batch_size > n
                                       : cursor_.position >= n;
  return over ? SamplerCursor{cursor_.epoch + 1, 0} : cursor_;
}

std::vector<uint64_t> DistributedSampler::peek_global_batch() const {
  const SamplerCursor c = normalized();
  const EpochPermutation perm(options_.num_samples, options_.seed, c.epoch, options_.shuffle);
  const uint64_t end = std::min(c.position + options_.global_batch_size, options_.num_samples);
  std::vector<uint64_t> out;
  out.reserve(end - c.position);
  for (uint64_t p = c.position; p < end; ++p) out.push_back(perm(p));
  return out;
}

void DistributedSampler::next_batch(std::vector<uint64_t>& out) {
  cursor_ = normalized();
  if (cursor_.epoch != permutation_epoch_) {
    permutation_ =
        EpochPermutation(options_.num_samples, options_.seed, cursor_.epoch, options_.shuffle);
    permutation_epoch_ = cursor_.epoch;
  }
  const uint64_t start = cursor_.position;
  const uint64_t len = std::min(options_.global_batch_size, options_.num_samples - start);
  const uint64_t lo = start + len * rank_ / world_size_;
  const uint64_t hi = start + len * (rank_ + 1) / world_size_;
  out.clear();
  out.reserve(hi - lo);
  for (uint64_t p = lo; p < hi; ++p) out.push_back(permutation_(p));
  cursor_.position = start + len;
}

std::vector<uint64_t> DistributedSampler::next_batch() {
  std::vector<uint64_t> out;
  next_batch(out);
  return out;
}

}  // namespace seller::data
