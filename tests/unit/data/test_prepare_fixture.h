// Record fixtures shared by the prepare and dataset tests.
#pragma once

#include <string>
#include <vector>

#include "trainer/data/prepare/prepare.h"
#include "trainer/data/record.h"

namespace seller::data::test {

inline Record rec(std::string user, std::string item, int64_t ts, std::string review = "",
                  float rating = 5.0f) {
  Record r;
  r.user = std::move(user);
  r.item = std::move(item);
  r.timestamp = ts;
  r.review = std::move(review);
  r.rating = rating;
  return r;
}

// Streams `records` as a reader would, positions "fixture.json:<1-based index>".
inline RecordSource source_of(const std::vector<Record>& records) {
  return [&records](const RecordSink& sink) {
    SourcePosition pos{"fixture.json", 0};
    for (const Record& r : records) {
      ++pos.line;
      sink(r, pos);
    }
  };
}

}  // namespace seller::data::test
