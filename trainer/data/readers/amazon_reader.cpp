// Amazon 2014/2018 review lines through the flat SAX handler. See amazon_reader.h.
#include "trainer/data/readers/amazon_reader.h"

#include "trainer/data/readers/flat_jsonl.h"

namespace seller::data {
namespace {

json::FieldTarget amazon_lookup(std::string_view key, Record& r) {
  using json::Slot;
  // Ordered by how often the key appears in a line; a miss costs a few length compares.
  if (key == "reviewerID") return {Slot::kString, &r.user, 1, "reviewerID"};
  if (key == "asin") return {Slot::kString, &r.item, 1, "asin"};
  if (key == "overall") return {Slot::kRating, nullptr, 1, "overall"};
  if (key == "reviewText") return {Slot::kString, &r.review, 1, "reviewText"};
  if (key == "summary") return {Slot::kString, &r.summary, 1, "summary"};
  if (key == "unixReviewTime") return {Slot::kTimestamp, nullptr, 1000, "unixReviewTime"};
  return {};
}

constexpr FlatJsonlFormat kAmazonFormat{&amazon_lookup, "reviewerID", "asin", ".json"};

}  // namespace

bool parse_amazon_line(std::string_view line, Record& record) {
  return parse_flat_jsonl_line(line, record, kAmazonFormat);
}

ReadStats read_amazon(const std::filesystem::path& input, const ReadOptions& options,
                      const RecordSink& sink) {
  return read_flat_jsonl(input, options, sink, kAmazonFormat);
}

}  // namespace seller::data
