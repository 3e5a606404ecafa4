// DistributedSampler: the permutation is a bijection, the global order does not depend on the
// world size, rank shares are disjoint and make up the global batch, resume from a cursor
// continues exactly, and epochs differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "trainer/core/error.h"
#include "trainer/data/sampler.h"

namespace seller::data {
namespace {

TEST(EpochPermutation, IsABijection) {
  for (uint64_t n :
       {1ull, 2ull, 3ull, 4ull, 5ull, 7ull, 16ull, 17ull, 1000ull, 4097ull, 65537ull}) {
    EpochPermutation p(n, 42, 0);
    std::vector<bool> seen(n, false);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t v = p(i);
      ASSERT_LT(v, n);
      ASSERT_FALSE(seen[v]) << "n=" << n << " value " << v << " twice";
      seen[v] = true;
    }
  }
}

TEST(EpochPermutation, ShufflesAndDependsOnSeedAndEpoch) {
  const uint64_t n = 1000;
  auto order = [&](uint64_t seed, uint64_t epoch) {
    EpochPermutation p(n, seed, epoch);
    std::vector<uint64_t> v(n);
    for (uint64_t i = 0; i < n; ++i) v[i] = p(i);
    return v;
  };
  const auto a = order(1, 0);
  EXPECT_EQ(a, order(1, 0));
  EXPECT_NE(a, order(1, 1));
  EXPECT_NE(a, order(2, 0));
  uint64_t fixed_points = 0;
  for (uint64_t i = 0; i < n; ++i) fixed_points += a[i] == i;
  EXPECT_LT(fixed_points, 20u);
  EpochPermutation identity(n, 1, 0, /*shuffle=*/false);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(identity(i), i);
}

// Concatenation of all ranks' shares, batch by batch, for `batches` global batches.
std::vector<std::vector<uint64_t>> global_batches(SamplerOptions o, uint32_t world,
                                                  size_t batches) {
  std::vector<DistributedSampler> ranks;
  for (uint32_t r = 0; r < world; ++r) ranks.emplace_back(o, r, world);
  std::vector<std::vector<uint64_t>> out;
  for (size_t b = 0; b < batches; ++b) {
    std::vector<uint64_t> batch;
    std::set<uint64_t> distinct;
    for (auto& s : ranks) {
      const auto share = s.next_batch();
      for (uint64_t x : share) EXPECT_TRUE(distinct.insert(x).second) << "shares overlap";
      batch.insert(batch.end(), share.begin(), share.end());
    }
    out.push_back(std::move(batch));
  }
  return out;
}

TEST(DistributedSampler, GlobalOrderIndependentOfWorldSize) {
  for (bool drop_last : {true, false}) {
    SamplerOptions o{
        .num_samples = 1003, .global_batch_size = 48, .seed = 5, .drop_last = drop_last};
    const size_t batches = 60;  // crosses into later epochs
    const auto reference = global_batches(o, 1, batches);
    for (uint32_t w : {2u, 3u, 4u, 8u}) {
      EXPECT_EQ(global_batches(o, w, batches), reference) << "world " << w;
    }
    DistributedSampler one(o, 0, 1);
    EXPECT_EQ(one.peek_global_batch(), reference[0]);
    // One epoch covers each sample once (all of them unless drop_last cuts the tail).
    std::set<uint64_t> epoch0;
    const uint64_t per_epoch = one.batches_per_epoch();
    EXPECT_EQ(per_epoch, drop_last ? 1003u / 48 : (1003u + 47) / 48);
    for (uint64_t b = 0; b < per_epoch; ++b)
      epoch0.insert(reference[b].begin(), reference[b].end());
    EXPECT_EQ(epoch0.size(), drop_last ? 1003u / 48 * 48 : 1003u);
    // Different epochs give different orders.
    EXPECT_NE(reference[0], reference[per_epoch]);
  }
}

TEST(DistributedSampler, RankSharesAreContiguousSlices) {
  SamplerOptions o{.num_samples = 100, .global_batch_size = 12, .seed = 9};
  DistributedSampler all(o, 0, 1);
  const auto global = all.peek_global_batch();
  for (uint32_t r = 0; r < 4; ++r) {
    DistributedSampler s(o, r, 4);
    EXPECT_EQ(s.local_batch_size(), 3u);
    EXPECT_EQ(s.next_batch(),
              std::vector<uint64_t>(global.begin() + 3 * r, global.begin() + 3 * r + 3));
  }
}

TEST(DistributedSampler, ResumesFromCursor) {
  SamplerOptions o{.num_samples = 77, .global_batch_size = 8, .seed = 3};
  DistributedSampler a(o, 1, 2);
  std::vector<std::vector<uint64_t>> first;
  SamplerCursor saved;
  for (int b = 0; b < 30; ++b) {
    if (b == 13) saved = a.cursor();
    first.push_back(a.next_batch());
  }
  DistributedSampler b(o, 1, 2);
  b.set_cursor(saved);
  EXPECT_EQ(saved.epoch, 1u);  // 9 batches per epoch
  for (int k = 13; k < 30; ++k) EXPECT_EQ(b.next_batch(), first[k]) << k;
  // Resuming with another world size continues the same global sequence.
  DistributedSampler whole(o, 0, 1);
  whole.set_cursor(saved);
  DistributedSampler r0(o, 0, 4), r3(o, 3, 4);
  r0.set_cursor(saved);
  r3.set_cursor(saved);
  const auto g = whole.next_batch();
  EXPECT_EQ(r0.next_batch(), std::vector<uint64_t>(g.begin(), g.begin() + 2));
  EXPECT_EQ(r3.next_batch(), std::vector<uint64_t>(g.end() - 2, g.end()));
}

TEST(DistributedSampler, RejectsBadLayouts) {
  SamplerOptions o{.num_samples = 10, .global_batch_size = 6};
  EXPECT_THROW(DistributedSampler(o, 0, 4), ConfigError);  // 6 % 4 != 0
  EXPECT_THROW(DistributedSampler(o, 2, 2), ConfigError);
  EXPECT_THROW(DistributedSampler(SamplerOptions{.num_samples = 0}, 0, 1), ConfigError);
  EXPECT_THROW(DistributedSampler(SamplerOptions{.num_samples = 3, .global_batch_size = 4}, 0, 1),
               ConfigError);
  DistributedSampler ok(
      SamplerOptions{.num_samples = 3, .global_batch_size = 4, .drop_last = false}, 0, 2);
  EXPECT_EQ(ok.next_batch().size(), 1u);  // short last batch: floor slices
}

}  // namespace
}  // namespace seller::data
