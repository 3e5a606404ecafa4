// XRec folders: CSV interactions joined with tst.jsonl explanations. See xrec_reader.h.
#include "trainer/data/readers/xrec_reader.h"

#include <charconv>
#include <optional>
#include <unordered_map>
#include <vector>

#include "trainer/data/readers/json_fields.h"
#include "trainer/data/readers/line_loop.h"

namespace seller::data {
namespace {

struct PairHash {
  size_t operator()(const std::pair<uint64_t, uint64_t>& p) const {
    return std::hash<uint64_t>()(p.first * 0x9E3779B97F4A7C15ull ^ p.second);
  }
};

struct TestRow {
  uint64_t user = 0, item = 0;
  std::string explanation;
  uint64_t line = 0;
  bool used = false;
};

struct ItemText {
  std::string title, description;
};

struct TestSet {
  std::vector<TestRow> rows;
  std::unordered_map<std::pair<uint64_t, uint64_t>, size_t, PairHash> by_pair;
  std::unordered_map<uint64_t, ItemText> items;
};

uint64_t parse_id(std::string_view text, std::string_view column) {
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  SELLER_THROW_IF_NOT(!text.empty() && ec == std::errc() && ptr == text.data() + text.size(),
                      DataError, "'", column, "' must be a non-negative integer, got '", text, "'");
  return value;
}

uint64_t id_from_json(const json::Json& row, const char* key) {
  const auto it = row.find(key);
  SELLER_THROW_IF_NOT(it != row.end(), DataError, "missing '", key, "'");
  SELLER_THROW_IF_NOT(it->is_number_unsigned() || (it->is_number_integer() && *it >= 0), DataError,
                      "'", key, "' must be a non-negative integer, got ", it->dump());
  return it->get<uint64_t>();
}

std::string string_from_json(const json::Json& row, const char* key) {
  const auto it = row.find(key);
  if (it == row.end() || it->is_null()) return {};
  SELLER_THROW_IF_NOT(it->is_string(), DataError, "'", key, "' must be a string, got ",
                      it->type_name());
  return it->get<std::string>();
}

// tst.jsonl is a few thousand rows: the DOM is simpler than SAX and its speed does not matter.
void load_test_set(const std::filesystem::path& file, const ReadOptions& options, ReadStats& stats,
                   TestSet& set) {
  TestRow row;
  ItemText text;
  for_each_line(
      file, options, stats,
      [&](std::string_view line) {
        if (is_blank(line)) return false;
        json::Json doc;
        try {
          doc = json::Json::parse(line.begin(), line.end());
        } catch (const json::Json::parse_error& e) {
          json::throw_parse_error(e.byte, e);
        }
        SELLER_THROW_IF_NOT(doc.is_object(), DataError, "expected a JSON object, got ",
                            doc.type_name());
        row.user = id_from_json(doc, "uid");
        row.item = id_from_json(doc, "iid");
        row.explanation = string_from_json(doc, "explanation");
        text.title = string_from_json(doc, "title");
        text.description = string_from_json(doc, "item_summary");
        return true;
      },
      [&](const SourcePosition& position) {
        row.line = position.line;
        auto [it, inserted] = set.by_pair.emplace(std::pair{row.user, row.item}, set.rows.size());
        if (inserted) {
          set.rows.push_back(row);
        } else {
          set.rows[it->second] = row;  // a repeated pair: the later row wins
        }
        auto& item = set.items[row.item];
        if (!text.title.empty()) item.title = text.title;
        if (!text.description.empty()) item.description = text.description;
      });
}

// Splits one CSV line (quotes allowed, "" inside quotes is a quote) into fields.
void split_csv(std::string_view line, std::vector<std::string>& fields) {
  fields.clear();
  fields.emplace_back();
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  SELLER_THROW_IF_NOT(!quoted, DataError, "unterminated quote");
}

void read_csv(const std::filesystem::path& file, const ReadOptions& options, ReadStats& stats,
              TestSet& set, const RecordSink& sink) {
  std::vector<std::string> fields;
  std::optional<size_t> user_col, item_col, time_col;
  size_t columns = 0;
  Record record;
  for_each_line(
      file, options, stats,
      [&](std::string_view line) {
        if (is_blank(line)) return false;
        split_csv(line, fields);
        if (columns == 0) {  // the header
          for (size_t i = 0; i < fields.size(); ++i) {
            if (fields[i] == "user") user_col = i;
            if (fields[i] == "item") item_col = i;
            if (fields[i] == "Time") time_col = i;
          }
          if (!user_col || !item_col) {
            throw FatalLineError(
                detail::concat("header must name the columns user,item[,Time], got '", line, "'"));
          }
          columns = fields.size();
          return false;
        }
        SELLER_THROW_IF_NOT(fields.size() == columns, DataError, "expected ", columns,
                            " fields, got ", fields.size());
        const uint64_t user = parse_id(fields[*user_col], "user");
        const uint64_t item = parse_id(fields[*item_col], "item");
        record.clear();
        if (time_col) record.timestamp = parse_xrec_date(fields[*time_col]);
        record.user = std::to_string(user);
        record.item = std::to_string(item);
        if (auto it = set.items.find(item); it != set.items.end()) {
          record.title = it->second.title;
          record.description = it->second.description;
        }
        if (auto it = set.by_pair.find({user, item}); it != set.by_pair.end()) {
          TestRow& row = set.rows[it->second];
          record.review = row.explanation;
          row.used = true;
        }
        return true;
      },
      [&](const SourcePosition& position) {
        ++stats.records;
        sink(record, position);
      });
  SELLER_THROW_IF_NOT(columns > 0, DataError, file.string(), ": empty CSV (no header line)");
}

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), H. Hinnant's algorithm.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

int64_t parse_xrec_date(std::string_view text) {
  const auto fail = [&]() -> DataError {
    return DataError(detail::concat("'Time' must be \"MM D, YYYY\", got '", text, "'"));
  };
  const char* p = text.data();
  const char* end = p + text.size();
  unsigned month = 0, day = 0;
  int year = 0;
  auto r = std::from_chars(p, end, month);
  if (r.ec != std::errc() || r.ptr == end || *r.ptr != ' ') throw fail();
  r = std::from_chars(r.ptr + 1, end, day);
  if (r.ec != std::errc() || end - r.ptr < 2 || r.ptr[0] != ',' || r.ptr[1] != ' ') throw fail();
  r = std::from_chars(r.ptr + 2, end, year);
  if (r.ec != std::errc() || r.ptr != end || year < 1000 || year > 9999) throw fail();
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) throw fail();
  const unsigned max_day = kDays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  if (day < 1 || day > max_day) throw fail();
  return days_from_civil(year, month, day) * 86'400'000;
}

ReadStats read_xrec(const std::filesystem::path& input, const ReadOptions& options,
                    const RecordSink& sink) {
  std::optional<std::filesystem::path> test_file;
  std::vector<std::filesystem::path> csv_files;
  if (std::filesystem::is_directory(input)) {
    if (std::filesystem::is_regular_file(input / "tst.jsonl")) test_file = input / "tst.jsonl";
    for (const char* split : {"trn", "val", "tst"}) {
      const auto csv = input / (std::string("total_") + split + ".csv");
      if (std::filesystem::is_regular_file(csv)) csv_files.push_back(csv);
    }
    SELLER_THROW_IF_NOT(test_file || !csv_files.empty(), DataError, input.string(),
                        ": not an XRec folder (none of tst.jsonl, total_trn.csv, total_val.csv,"
                        " total_tst.csv found)");
  } else if (input.extension() == ".csv") {
    csv_files.push_back(input);
  } else {
    test_file = input;  // LineReader names the path if it does not exist
  }

  ReadStats stats;
  TestSet set;
  if (test_file) load_test_set(*test_file, options, stats, set);
  for (const auto& csv : csv_files) read_csv(csv, options, stats, set, sink);
  if (test_file) {
    Record record;
    SourcePosition position{test_file->string(), 0};
    for (const TestRow& row : set.rows) {
      if (row.used) continue;
      record.clear();
      record.user = std::to_string(row.user);
      record.item = std::to_string(row.item);
      record.review = row.explanation;
      const ItemText& text = set.items[row.item];
      record.title = text.title;
      record.description = text.description;
      position.line = row.line;
      ++stats.records;
      sink(record, position);
    }
  }
  require_records(input, stats);
  return stats;
}

}  // namespace seller::data
