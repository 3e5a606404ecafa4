// Length statistics of a tokenised corpus (tokens per text): mean, median (mean of the two
// middle values for an even count, like numpy.median), min, max.
#pragma once

#include <cstdint>

#include "eval/text/bleu.h"

namespace seller::eval {

struct LengthStats {
  int64_t count = 0;
  double mean = 0;
  double median = 0;
  int64_t min = 0;
  int64_t max = 0;
};

// Throws DataError on an empty corpus.
LengthStats length_stats(const TokenizedCorpus& texts);

}  // namespace seller::eval
