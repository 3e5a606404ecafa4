// The built-in synthetic dataset: seller's default data and its scale benchmark input.
//
// Model. Items belong to one of 4 categories and have 2-3 main aspects (from a fixed list of up to
// 32 aspect words, vocabulary.h), a quality in [0, 1] per main aspect and a log-normal
// popularity; titles read "<adjective> <category noun> <model code>" and descriptions name the
// main aspects. Each user has a latent preference (a logit per aspect) that drifts as a
// mean-reverting random walk and is reinforced by what the user liked. An interaction picks an
// aspect from softmax(sharpness * preference), then an item from that aspect's pool weighted by
// popularity and aspect quality (with probability `explore`, an item by popularity alone); a
// user never repeats an item. The review's focus aspect (Record::feature) is the item aspect the
// user currently cares most about; the rating and the sentiment of each review sentence depend
// on the item's quality for those aspects and on the user's affinity for the item. So the
// explanation depends on both the history (which aspects the user cares about now) and the item.
//
// Invariants. Output is a pure function of the options: same options, same bytes on any machine
// (own PRNG and sampling, no std distributions, no libm transcendental functions). Records come
// in user order ("u…" ids ascending), each user's interactions in chronological order
// (timestamps non-decreasing, ties possible, never two equal review texts of one user at one
// time, so `seller data prepare` de-duplicates nothing). Memory is O(items) for the catalog plus
// O(longest history) for the user being generated: it does not grow with the number of
// interactions, and each interaction costs O(aspects), never O(items).
#pragma once

#include <cstdint>
#include <filesystem>

#include "trainer/data/record.h"

namespace seller::data {

struct SyntheticOptions {
  uint64_t users = 1000;       // number of users (>= 1)
  uint64_t items = 500;        // number of items (>= 1)
  uint32_t aspects = 16;       // aspect words in use, 4..32 (the first K of vocabulary.h)
  uint32_t mean_history = 20;  // mean interactions per user (>= min_history)
  uint32_t min_history = 5;    // fewest interactions per user (>= 1, <= items)
  double drift = 0.3;          // std of the per-interaction random-walk step of each aspect
                               // logit (0 = fixed preferences), 0..5
  uint64_t seed = 7;           // everything derives from it
  double sharpness = 2.0;      // inverse temperature of the aspect softmax, 0..20
  double explore = 0.1;        // probability of an item picked by popularity alone, 0..1
  double tie_rate = 0.03;      // probability that an interaction has its predecessor's time
                               // (moved on by 1 s if its review text repeats one at that time)
  int64_t start_ms = 1420070400000;  // earliest first interaction (2015-01-01T00:00:00Z), >= 0
};

// What was generated: items counts the catalog items that appear in at least one interaction
// (what `seller data prepare` reports), which can be fewer than SyntheticOptions::items.
struct SyntheticStats {
  uint64_t users = 0, items = 0, interactions = 0;
};

// Throws seller::ConfigError naming the first bad option, e.g.
// "synthetic.users must be >= 1, got 0".
void validate(const SyntheticOptions& options);

// Validates, then streams every record to `sink` (user order, each user chronological).
// SourcePosition.file is "synthetic" and .line the 1-based record number.
SyntheticStats generate_synthetic(const SyntheticOptions& options, const RecordSink& sink);

// Writes the dataset as normalised JSON lines (gzip level 1 when `out` ends in ".gz"), through a
// temporary file renamed into place, so `out` is either absent/old or complete.
SyntheticStats write_synthetic_jsonl(const SyntheticOptions& options,
                                     const std::filesystem::path& out);

}  // namespace seller::data
