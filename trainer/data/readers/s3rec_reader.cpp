// S3-Rec / P5 sequence lines plus the optional item attributes. See s3rec_reader.h.
#include "trainer/data/readers/s3rec_reader.h"

#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "trainer/data/readers/json_fields.h"
#include "trainer/data/readers/line_loop.h"

namespace seller::data {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

uint64_t parse_token(std::string_view token, size_t index) {
  uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (ec != std::errc() || ptr != token.data() + token.size()) {
    throw DataError(detail::concat(index == 0 ? "user id" : "item id", " must be a",
                                   " non-negative integer, got '", token, "' (token ", index + 1,
                                   ")"));
  }
  return value;
}

using AttributeMap = std::unordered_map<uint64_t, std::string>;

AttributeMap load_attributes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  SELLER_THROW_IF_NOT(in, DataError, file.string(), ": cannot open");
  json::Json doc;
  try {
    doc = json::Json::parse(in);
  } catch (const json::Json::parse_error& e) {
    throw DataError(detail::concat(file.string(), ": invalid JSON at byte ", e.byte));
  }
  SELLER_THROW_IF_NOT(doc.is_object(), DataError, file.string(),
                      ": expected an object {item id: [attribute ids]}");
  AttributeMap attributes;
  attributes.reserve(doc.size());
  for (const auto& [key, value] : doc.items()) {
    uint64_t item = 0;
    const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), item);
    SELLER_THROW_IF_NOT(ec == std::errc() && ptr == key.data() + key.size(), DataError,
                        file.string(), ": item id '", key, "' is not an integer");
    SELLER_THROW_IF_NOT(value.is_array(), DataError, file.string(), ": item ", key,
                        ": expected an array of attribute ids");
    std::string joined;
    for (const auto& attribute : value) {
      SELLER_THROW_IF_NOT(attribute.is_number_integer(), DataError, file.string(), ": item ", key,
                          ": attribute ", attribute.dump(), " is not an integer");
      if (!joined.empty()) joined.push_back(',');
      joined += attribute.dump();
    }
    attributes[item] = std::move(joined);
  }
  return attributes;
}

}  // namespace

bool parse_s3rec_line(std::string_view line, uint64_t& user, std::vector<uint64_t>& items) {
  items.clear();
  size_t index = 0, i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i == line.size()) break;
    size_t j = i;
    while (j < line.size() && !is_space(line[j])) ++j;
    const uint64_t value = parse_token(line.substr(i, j - i), index);
    if (index == 0) {
      user = value;
    } else {
      items.push_back(value);
    }
    ++index;
    i = j;
  }
  if (index == 0) return false;
  SELLER_THROW_IF_NOT(!items.empty(), DataError, "user ", user, " has no items");
  return true;
}

ReadStats read_s3rec(const std::filesystem::path& input, const ReadOptions& options,
                     const RecordSink& sink) {
  SELLER_THROW_IF_NOT(!std::filesystem::is_directory(input), DataError, input.string(),
                      ": is a folder; the s3rec format reads one <name>.txt file");
  AttributeMap attributes;
  const auto attribute_file =
      input.parent_path() / (input.stem().string() + "_item2attributes.json");
  if (std::filesystem::is_regular_file(attribute_file))
    attributes = load_attributes(attribute_file);

  ReadStats stats;
  uint64_t user = 0;
  std::vector<uint64_t> items;
  Record record;
  for_each_line(
      input, options, stats,
      [&](std::string_view line) { return parse_s3rec_line(line, user, items); },
      [&](const SourcePosition& position) {
        record.clear();
        record.user = std::to_string(user);
        for (const uint64_t item : items) {
          record.item = std::to_string(item);
          if (!attributes.empty()) {
            const auto it = attributes.find(item);
            if (it != attributes.end()) {
              record.category = it->second;
            } else {
              record.category.clear();
            }
          }
          ++stats.records;
          sink(record, position);
        }
      });
  require_records(input, stats);
  return stats;
}

}  // namespace seller::data
