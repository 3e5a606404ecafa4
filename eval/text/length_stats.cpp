// Implementation of the length statistics (see length_stats.h).
#include "eval/text/length_stats.h"

#include <algorithm>
#include <vector>

#include "trainer/core/error.h"

namespace seller::eval {

LengthStats length_stats(const TokenizedCorpus& texts) {
  SELLER_THROW_IF_NOT(!texts.empty(), DataError, "length statistics: empty corpus");
  std::vector<int64_t> lengths;
  lengths.reserve(texts.size());
  int64_t sum = 0;
  for (const auto& t : texts) {
    lengths.push_back(static_cast<int64_t>(t.size()));
    sum += lengths.back();
  }
  std::sort(lengths.begin(), lengths.end());
  LengthStats s;
  s.count = static_cast<int64_t>(lengths.size());
  s.mean = static_cast<double>(sum) / static_cast<double>(s.count);
  const size_t mid = lengths.size() / 2;
  s.median = lengths.size() % 2
                 ? static_cast<double>(lengths[mid])
                 : (static_cast<double>(lengths[mid - 1]) + static_cast<double>(lengths[mid])) / 2;
  s.min = lengths.front();
  s.max = lengths.back();
  return s;
}

}  // namespace seller::eval
