// Reader of Amazon 2014 and 2018 review JSON lines (the 5-core `reviews_<Cat>_5.json.gz` and
// `<Cat>_5.json.gz` files): one review object per line. Kept: reviewerID -> user, asin -> item,
// overall -> rating, reviewText -> review, summary -> summary, unixReviewTime (seconds) ->
// timestamp (ms). Everything else (style, helpful, vote, image, reviewTime, ...) is skipped.
// reviewerID and asin are required and must be non-empty strings; a missing reviewText is an
// empty review. The input is a file (.json, .json.gz, any name) or a folder whose *.json and
// *.json.gz files are read in name order.
#pragma once

#include <filesystem>
#include <string_view>

#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

// Parses one line into record (cleared first); false for a blank line. Throws DataError with
// the reason only.
bool parse_amazon_line(std::string_view line, Record& record);

ReadStats read_amazon(const std::filesystem::path& input, const ReadOptions& options,
                      const RecordSink& sink);

}  // namespace seller::data
