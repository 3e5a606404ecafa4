// Shared pieces of the JSON readers: running nlohmann's SAX parser over one line, and turning
// JSON numbers into ratings and millisecond timestamps with exact type and range checks.
// Every function here throws seller::DataError whose message is only the reason; the line loop
// (line_loop.h) prefixes "file:line: ". Why SAX: it skips the DOM allocation of every key and
// value we do not keep (style dicts, images, votes), which is most of an Amazon line.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "trainer/core/error.h"

namespace seller::data::json {

using Json = nlohmann::json;
using JsonException = nlohmann::detail::exception;

// "invalid JSON at byte N: <what nlohmann says>".
[[noreturn]] void throw_parse_error(std::size_t position, const JsonException& ex);

// Type name for messages ("string", "number", "object", ...).
enum class JsonType { kNull, kBool, kNumber, kString, kObject, kArray };
const char* type_name(JsonType type);

// Rating from a JSON number; raw is the number's text when it is a float (exactness: the float
// nearest to the text, not the float nearest to the double nearest to it). Must be finite.
float rating_from_integer(int64_t value);
float rating_from_text(const std::string& raw, std::string_view key);

// Timestamp in milliseconds from an integer number of seconds (scale 1000) or milliseconds
// (scale 1); overflow and kNoTimestamp itself are rejected. Floats must be integral.
int64_t timestamp_from_integer(int64_t value, int64_t scale, std::string_view key);
int64_t timestamp_from_unsigned(uint64_t value, int64_t scale, std::string_view key);
int64_t timestamp_from_float(double value, int64_t scale, std::string_view key);

// Reason for a value of the wrong type.
[[noreturn]] void throw_wrong_type(std::string_view key, const char* expected, JsonType got);

// Runs the SAX parser over text; the handler throws DataError for semantic problems, and
// parse errors become DataError via throw_parse_error. Requires exactly one JSON value.
template <class Handler>
void sax_parse_text(std::string_view text, Handler& handler) {
  Json::sax_parse(text.data(), text.data() + text.size(), &handler, Json::input_format_t::json,
                  /*strict=*/true);
}

// SAX callbacks every handler needs but nobody uses.
struct SaxDefaults {
  bool binary(Json::binary_t&) { return true; }
  bool parse_error(std::size_t position, const std::string&, const JsonException& ex) {
    throw_parse_error(position, ex);
  }
};

}  // namespace seller::data::json
