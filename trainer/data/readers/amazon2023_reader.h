// Reader of Amazon Reviews 2023 JSON lines, in two shapes told apart by the `history` key:
//   1. per-user histories (shared/data/amazon2023-mini-histories): {user_id, category,
//      history: [review, ...] oldest first, heldout: review}; each review is {parent_asin,
//      rating, timestamp_ms, review_title, review_full, review_excerpt, product: {title,
//      main_category, ...}}. Emits the history reviews in order, then the heldout one, as
//      records user=user_id, item=parent_asin, rating, timestamp=timestamp_ms,
//      review=review_full (review_excerpt when review_full is absent or null),
//      summary=review_title, title=product.title, category=product.main_category (the line's
//      category when absent, null or empty);
//   2. the plain release shape, one review per line: {user_id, parent_asin (asin when absent),
//      rating, timestamp (ms), text, title, ...} -> review=text, summary=title.
// user_id and every review's item id are required. A line with neither history nor heldout
// reviews is malformed. Records of one line are emitted only when the whole line parsed. The
// same review may appear on several lines (one user in several splits); de-duplication is
// downstream. Input: a file, or a folder whose training.jsonl, validation.jsonl and test.jsonl
// (each also as .jsonl.gz) are read in that order; a folder without them reads its *.jsonl and
// *.jsonl.gz files in name order.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

// Parses one line into out (resized to the number of records, reusing its elements' buffers).
// Returns false for a blank line. Throws DataError with the reason only.
bool parse_amazon2023_line(std::string_view line, std::vector<Record>& out);

ReadStats read_amazon2023(const std::filesystem::path& input, const ReadOptions& options,
                          const RecordSink& sink);

}  // namespace seller::data
