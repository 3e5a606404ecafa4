// Number conversions and error messages shared by the JSON readers. See json_fields.h.
#include "trainer/data/readers/json_fields.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "trainer/data/record.h"

namespace seller::data::json {

void throw_parse_error(std::size_t position, const JsonException& ex) {
  // nlohmann's text is "[json.exception.parse_error.101] parse error at line 1, column 7: ..."
  std::string_view what = ex.what();
  const size_t column = what.find("column ");
  if (column != std::string_view::npos) {
    const size_t colon = what.find(": ", column);
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  } else if (what.starts_with("[json.exception.")) {  // e.g. out_of_range.406 number overflow
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  throw DataError(detail::concat("invalid JSON at byte ", position, ": ", what));
}

const char* type_name(JsonType type) {
  switch (type) {
    case JsonType::kNull:
      return "null";
    case JsonType::kBool:
      return "boolean";
    case JsonType::kNumber:
      return "number";
    case JsonType::kString:
      return "string";
    case JsonType::kObject:
      return "object";
    case JsonType::kArray:
      return "array";
  }
  return "?";
}

void throw_wrong_type(std::string_view key, const char* expected, JsonType got) {
  throw DataError(detail::concat("'", key, "' must be ", expected, ", got ", type_name(got)));
}

float rating_from_integer(int64_t value) { return static_cast<float>(value); }

float rating_from_text(const std::string& raw, std::string_view key) {
  float value = 0;
  const char* first = raw.data();
  const char* last = raw.data() + raw.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || !std::isfinite(value)) {
    throw DataError(detail::concat("'", key, "' is out of range: ", raw));
  }
  return value;
}

int64_t timestamp_from_integer(int64_t value, int64_t scale, std::string_view key) {
  int64_t ms = 0;
  if (__builtin_mul_overflow(value, scale, &ms) || ms == kNoTimestamp) {
    throw DataError(detail::concat("'", key, "' is out of range: ", value));
  }
  return ms;
}

int64_t timestamp_from_unsigned(uint64_t value, int64_t scale, std::string_view key) {
  if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw DataError(detail::concat("'", key, "' is out of range: ", value));
  }
  return timestamp_from_integer(static_cast<int64_t>(value), scale, key);
}

int64_t timestamp_from_float(double value, int64_t scale, std::string_view key) {
  // 2^63 is exactly representable; anything at or beyond it cannot be an int64.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(value) || std::trunc(value) != value || value >= kLimit || value < -kLimit) {
    throw DataError(detail::concat("'", key, "' must be an integer, got ", value));
  }
  return timestamp_from_integer(static_cast<int64_t>(value), scale, key);
}

}  // namespace seller::data::json
