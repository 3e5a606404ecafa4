// Writer and reader of the normalised record JSONL. See normalised_jsonl.h for the invariants.
#include "trainer/data/readers/normalised_jsonl.h"

#include <charconv>
#include <cmath>
#include <cstring>

#include "trainer/data/readers/flat_jsonl.h"

namespace seller::data {
namespace {

// Length of the valid UTF-8 sequence starting at s[i] (non-ASCII lead byte), 0 if invalid.
// Same rules as RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF), which is what
// the reader's JSON lexer enforces.
size_t utf8_sequence_length(const unsigned char* s, size_t n) {
  const auto in = [&](size_t k, unsigned lo, unsigned hi) {
    return k < n && s[k] >= lo && s[k] <= hi;
  };
  const unsigned c = s[0];
  if (c >= 0xC2 && c <= 0xDF) return in(1, 0x80, 0xBF) ? 2 : 0;
  if (c == 0xE0) return in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) return in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF) ? 3 : 0;
  if (c == 0xF0) return in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) {
    return in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c == 0xF4) return in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF) ? 4 : 0;
  return 0;
}

void append_json_string(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    size_t run = i;
    while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\') ++run;
    out.append(text.data() + i, run - i);
    i = run;
    if (i == n) break;
    const unsigned char c = s[i];
    if (c >= 0x80) {
      const size_t len = utf8_sequence_length(s + i, n - i);
      if (len == 0) {
        out.append("\xEF\xBF\xBD");  // U+FFFD for a byte that is not valid UTF-8
        ++i;
      } else {
        out.append(text.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    ++i;
  }
  out.push_back('"');
}

void append_key(const char* key, std::string& out) {
  out.push_back(',');
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void append_optional(const char* key, const std::string& value, std::string& out) {
  if (value.empty()) return;
  append_key(key, out);
  append_json_string(value, out);
}

json::FieldTarget normalised_lookup(std::string_view key, Record& r) {
  using json::Slot;
  const auto str = [&](std::string& field, std::string_view name) {
    return json::FieldTarget{Slot::kString, &field, 1, name};
  };
  if (key == "user") return str(r.user, "user");
  if (key == "item") return str(r.item, "item");
  if (key == "rating") return {Slot::kRating, nullptr, 1, "rating"};
  if (key == "timestamp") return {Slot::kTimestamp, nullptr, 1, "timestamp"};
  if (key == "review") return str(r.review, "review");
  if (key == "summary") return str(r.summary, "summary");
  if (key == "title") return str(r.title, "title");
  if (key == "description") return str(r.description, "description");
  if (key == "category") return str(r.category, "category");
  if (key == "feature") return str(r.feature, "feature");
  return {Slot::kUnknown, nullptr, 1, {}};
}

constexpr FlatJsonlFormat kNormalisedFormat{&normalised_lookup, "user", "item", ".jsonl"};

}  // namespace

void append_record_jsonl(const Record& record, std::string& out) {
  out.append("{\"user\":");
  append_json_string(record.user, out);
  append_key("item", out);
  append_json_string(record.item, out);
  if (record.has_rating()) {
    SELLER_THROW_IF_NOT(std::isfinite(record.rating), DataError, "record (user '", record.user,
                        "', item '", record.item, "'): rating is not finite: ", record.rating);
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, record.rating);
    SELLER_CHECK(ec == std::errc());
    append_key("rating", out);
    out.append(buf, end);
    // "-0" would read back as the integer 0; keep the sign with a fraction.
    if (std::signbit(record.rating) && record.rating == 0) out.append(".0");
  }
  if (record.has_timestamp()) {
    char buf[24];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, record.timestamp);
    SELLER_CHECK(ec == std::errc());
    append_key("timestamp", out);
    out.append(buf, end);
  }
  append_optional("review", record.review, out);
  append_optional("summary", record.summary, out);
  append_optional("title", record.title, out);
  append_optional("description", record.description, out);
  append_optional("category", record.category, out);
  append_optional("feature", record.feature, out);
  out.append("}\n");
}

bool parse_record_jsonl(std::string_view line, Record& record) {
  return parse_flat_jsonl_line(line, record, kNormalisedFormat);
}

ReadStats read_synthetic(const std::filesystem::path& input, const ReadOptions& options,
                         const RecordSink& sink) {
  return read_flat_jsonl(input, options, sink, kNormalisedFormat);
}

}  // namespace seller::data
