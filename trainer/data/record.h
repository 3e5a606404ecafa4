// The normalised interaction record every reader produces, whatever the source format.
// One record = one (user, item) interaction with its review and the item's text. Readers stream
// records to a sink; string fields are only valid during the sink call (readers reuse buffers).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace seller::data {

// Marks a missing timestamp; histories then keep the input order (the reader's emit order).
inline constexpr int64_t kNoTimestamp = std::numeric_limits<int64_t>::min();

struct Record {
  std::string user;         // original user id (reviewerID, user_id, uid, ...)
  std::string item;         // original item id (asin, parent_asin, iid, ...)
  float rating = std::numeric_limits<float>::quiet_NaN();  // NaN when the source has none
  int64_t timestamp = kNoTimestamp;                        // milliseconds since the epoch
  std::string review;       // review / explanation text (may be empty)
  std::string summary;      // review title / summary line (may be empty)
  std::string title;        // item title (may be empty)
  std::string description;  // item description (may be empty)
  std::string category;     // item category (may be empty)
  std::string feature;      // optional aspect/feature the review talks about

  void clear() {
    user.clear(), item.clear(), review.clear(), summary.clear(), title.clear();
    description.clear(), category.clear(), feature.clear();
    rating = std::numeric_limits<float>::quiet_NaN();
    timestamp = kNoTimestamp;
  }
  bool has_rating() const { return !std::isnan(rating); }
  bool has_timestamp() const { return timestamp != kNoTimestamp; }
};

// Where a record came from, for error messages ("file:line").
struct SourcePosition {
  std::string file;
  uint64_t line = 0;  // 1-based
};

// Receives every record in input order. Returning normally continues the stream.
using RecordSink = std::function<void(const Record&, const SourcePosition&)>;

}  // namespace seller::data
