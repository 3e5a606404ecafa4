// Review text of the synthetic dataset: sentences composed from aspect-and-sentiment phrases.
// The focus sentence is about the aspect the user cares most about among the item's aspects, with
// the sentiment of the user's perceived quality of it; optional sentences add another aspect of
// the item, the user's current main interest (from their history) and an opener that follows the
// rating. Text is ASCII, one line, no quotes or backslashes (nothing a JSON writer must escape).
#pragma once

#include <cstdint>
#include <string>

#include "trainer/data/synthetic/catalog.h"
#include "trainer/data/synthetic/prng.h"
#include "trainer/data/synthetic/vocabulary.h"

namespace seller::data::synthetic {

struct ReviewInputs {
  const SyntheticItem* item = nullptr;
  uint32_t focus = 0;                      // index into item->aspects
  double perceived[kMaxItemAspects] = {};  // the user's perceived quality of each aspect
  int rating = 3;                          // 1..5
  uint32_t top_aspect = 0;                 // the aspect the user currently cares most about
};

Sentiment sentiment_of(double perceived_quality);

// Overwrites review and summary (their capacity is reused).
void compose_review(const ReviewInputs& in, Rng& rng, std::string& review, std::string& summary);

}  // namespace seller::data::synthetic
