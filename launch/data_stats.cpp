// Statistics of a prepared dataset (see data_stats.h). One pass over the memory-mapped shards;
// memory is O(users) for the history-length distribution.
#include "launch/data_stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <limits>
#include <vector>

#include "launch/cli_config.h"
#include "trainer/data/dataset.h"

namespace seller::launch {
namespace {

std::string format_date(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

}  // namespace

int print_dataset_stats(const std::string& dir, bool verify_checksums) {
  auto ds = data::Dataset::open(dir, verify_checksums);
  std::vector<uint32_t> lengths;
  lengths.reserve(ds.num_users());
  std::array<uint64_t, 3> split_counts{};
  std::array<uint64_t, 6> rating_hist{};  // 0 = other, 1..5
  uint64_t rated = 0, with_review = 0, with_time = 0;
  int64_t t_min = std::numeric_limits<int64_t>::max(), t_max = std::numeric_limits<int64_t>::min();
  double rating_sum = 0;
  for (uint32_t u = 0; u < ds.num_users(); ++u) {
    const auto items = ds.history(u);
    const auto times = ds.timestamps(u);
    const auto ratings = ds.ratings(u);
    const auto tags = ds.split_tags(u);
    lengths.push_back(static_cast<uint32_t>(items.size()));
    for (size_t k = 0; k < items.size(); ++k) {
      if (tags[k] < 3) ++split_counts[tags[k]];
      if (!std::isnan(ratings[k])) {
        ++rated;
        rating_sum += ratings[k];
        float r = ratings[k];
        int bucket = (r == std::round(r) && r >= 1 && r <= 5) ? static_cast<int>(r) : 0;
        ++rating_hist[bucket];
      }
      if (times[k] != data::kNoTimestamp) {
        ++with_time;
        t_min = std::min(t_min, times[k]);
        t_max = std::max(t_max, times[k]);
      }
      if (!ds.review(u, k).empty()) ++with_review;
    }
  }
  uint64_t titled = 0;
  for (uint32_t i = 0; i < ds.num_items(); ++i) titled += !ds.item_title(i).empty();
  std::sort(lengths.begin(), lengths.end());
  const uint64_t n = ds.num_interactions();
  auto pct = [n](uint64_t k) { return n ? 100.0 * static_cast<double>(k) / static_cast<double>(n) : 0.0; };

  std::cout << "dataset " << dir << " (source: " << ds.source_format() << ", " << ds.num_shards()
            << " shard(s), checksums " << (verify_checksums ? "verified" : "not verified")
            << ")\n";
  std::cout << "  users " << ds.num_users() << "\n  items " << ds.num_items()
            << "\n  interactions " << n << "\n";
  std::cout << "  splits: train " << split_counts[0] << ", valid " << split_counts[1]
            << ", test " << split_counts[2] << "\n";
  if (!lengths.empty()) {
    double mean = static_cast<double>(n) / static_cast<double>(lengths.size());
    std::cout << std::fixed << std::setprecision(2) << "  history length: mean " << mean
              << ", median " << lengths[lengths.size() / 2] << ", min " << lengths.front()
              << ", max " << lengths.back() << "\n";
  }
  if (ds.num_users() && ds.num_items()) {
    double density = static_cast<double>(n) /
                     (static_cast<double>(ds.num_users()) * static_cast<double>(ds.num_items()));
    std::cout << std::setprecision(6) << "  density " << density << "\n";
  }
  std::cout << std::setprecision(1);
  if (with_time)
    std::cout << "  time span: " << format_date(t_min) << " .. " << format_date(t_max) << " ("
              << pct(with_time) << "% with timestamps)\n";
  else
    std::cout << "  time span: none (no timestamps; histories keep the input order)\n";
  if (rated) {
    std::cout << std::setprecision(3) << "  ratings: mean " << rating_sum / static_cast<double>(rated)
              << ", 1/2/3/4/5 = " << rating_hist[1] << "/" << rating_hist[2] << "/"
              << rating_hist[3] << "/" << rating_hist[4] << "/" << rating_hist[5];
    if (rating_hist[0]) std::cout << " (+" << rating_hist[0] << " other)";
    std::cout << "\n";
  } else {
    std::cout << "  ratings: none\n";
  }
  std::cout << std::setprecision(1) << "  texts: " << pct(with_review)
            << "% of interactions have a review, " << titled << " of " << ds.num_items()
            << " items have a title\n";
  const auto& st = ds.stats();
  std::cout << "  cleaning: " << st.input_records << " input records, "
            << st.duplicates_removed << " duplicates removed, " << st.users_dropped
            << " users dropped\n";
  return kExitOk;
}

}  // namespace seller::launch
