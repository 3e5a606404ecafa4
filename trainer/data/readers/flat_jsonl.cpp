// Shared parse and read loop of the flat JSON-lines readers. See flat_jsonl.h.
#include "trainer/data/readers/flat_jsonl.h"

#include <string>
#include <vector>

#include "trainer/data/readers/line_loop.h"

namespace seller::data {

bool parse_flat_jsonl_line(std::string_view line, Record& record, const FlatJsonlFormat& format) {
  record.clear();
  if (is_blank(line)) return false;
  json::FlatRecordSax handler(record, format.lookup);
  json::sax_parse_text(line, handler);
  SELLER_THROW_IF_NOT(!record.user.empty(), DataError, "missing or empty '", format.user_key, "'");
  SELLER_THROW_IF_NOT(!record.item.empty(), DataError, "missing or empty '", format.item_key, "'");
  return true;
}

ReadStats read_flat_jsonl(const std::filesystem::path& input, const ReadOptions& options,
                          const RecordSink& sink, const FlatJsonlFormat& format) {
  std::vector<std::filesystem::path> files{input};
  if (std::filesystem::is_directory(input)) {
    const std::string ext(format.extension);
    const std::string gz_ext = ext + ".gz";
    files = list_input_files(
        input,
        [&](const std::string& name) { return name.ends_with(ext) || name.ends_with(gz_ext); },
        detail::concat("*", ext, " or *", gz_ext));
  }
  ReadStats stats;
  Record record;
  for (const auto& file : files) {
    for_each_line(
        file, options, stats,
        [&](std::string_view line) { return parse_flat_jsonl_line(line, record, format); },
        [&](const SourcePosition& position) {
          ++stats.records;
          sink(record, position);
        });
  }
  require_records(input, stats);
  return stats;
}

}  // namespace seller::data
