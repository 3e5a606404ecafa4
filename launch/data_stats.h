// `seller data stats DIR`: opens a prepared dataset (verifying checksums unless told not to) and
// prints its statistics: counts, split sizes, history lengths, time span, ratings, text coverage.
#pragma once

#include <string>

namespace seller::launch {

int print_dataset_stats(const std::string& dir, bool verify_checksums);

}  // namespace seller::launch
