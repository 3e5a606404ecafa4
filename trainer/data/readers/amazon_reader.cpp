// Amazon 2014/2018 review lines through the flat SAX handler. See amazon_reader.h.
#include "trainer/data/readers/amazon_reader.h"

#include "trainer/data/readers/flat_record_sax.h"
#include "trainer/data/readers/line_loop.h"

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

}  // namespace

bool parse_amazon_line(std::string_view line, Record& record) {
  record.clear();
  if (is_blank(line)) return false;
  json::FlatRecordSax handler(record, &amazon_lookup);
  json::sax_parse_text(line, handler);
  SELLER_THROW_IF_NOT(!record.user.empty(), DataError, "missing or empty 'reviewerID'");
  SELLER_THROW_IF_NOT(!record.item.empty(), DataError, "missing or empty 'asin'");
  return true;
}

ReadStats read_amazon(const std::filesystem::path& input, const ReadOptions& options,
                      const RecordSink& sink) {
  std::vector<std::filesystem::path> files{input};
  if (std::filesystem::is_directory(input)) {
    files = list_input_files(
        input,
        [](const std::string& name) {
          return name.ends_with(".json") || name.ends_with(".json.gz");
        },
        "*.json or *.json.gz");
  }
  ReadStats stats;
  Record record;
  for (const auto& file : files) {
    for_each_line(
        file, options, stats,
        [&](std::string_view line) { return parse_amazon_line(line, record); },
        [&](const SourcePosition& position) {
          ++stats.records;
          sink(record, position);
        });
  }
  require_records(input, stats);
  return stats;
}

}  // namespace seller::data
