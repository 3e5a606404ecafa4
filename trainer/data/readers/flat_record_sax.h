// SAX handler for JSON lines whose wanted fields are all top-level keys of one object (Amazon
// 2014/2018 reviews, Amazon 2023 plain reviews, our normalised records). A lookup maps each key
// to a Record field (or to "ignore" / "unknown"); nested values of ignored keys are skipped
// without allocation. Invariants: the root must be an object; a wanted key with a value of the
// wrong type throws DataError("'key' must be ..."); null means "absent" for every field.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "trainer/data/readers/json_fields.h"
#include "trainer/data/record.h"

namespace seller::data::json {

enum class Slot : uint8_t { kIgnore, kUnknown, kString, kRating, kTimestamp };

struct FieldTarget {
  Slot slot = Slot::kIgnore;
  std::string* str = nullptr;  // kString
  int64_t scale = 1;           // kTimestamp: 1000 for seconds, 1 for milliseconds
  std::string_view name;       // the key, for messages (a literal owned by the lookup)
};

// Lookup: FieldTarget(std::string_view key, Record& record).
template <class Lookup>
class FlatRecordSax : public SaxDefaults {
 public:
  FlatRecordSax(Record& record, Lookup lookup) : record_(record), lookup_(lookup) {}

  bool key(Json::string_t& k) {
    if (depth_ == 1) {
      target_ = lookup_(std::string_view(k), record_);
      if (target_.slot == Slot::kUnknown) {
        throw DataError(seller::detail::concat("unknown key '", k, "'"));
      }
    }
    return true;
  }
  bool null() {
    if (!at_value(JsonType::kNull)) return true;
    if (target_.slot == Slot::kString) target_.str->clear();
    if (target_.slot == Slot::kRating) record_.rating = std::numeric_limits<float>::quiet_NaN();
    if (target_.slot == Slot::kTimestamp) record_.timestamp = kNoTimestamp;
    return true;
  }
  bool boolean(bool) {
    if (at_value(JsonType::kBool) && target_.slot != Slot::kIgnore) wrong(JsonType::kBool);
    return true;
  }
  bool number_integer(Json::number_integer_t v) {
    if (!at_value(JsonType::kNumber)) return true;
    if (target_.slot == Slot::kRating) {
      record_.rating = rating_from_integer(v);
    } else if (target_.slot == Slot::kTimestamp) {
      record_.timestamp = timestamp_from_integer(v, target_.scale, target_.name);
    } else if (target_.slot != Slot::kIgnore) {
      wrong(JsonType::kNumber);
    }
    return true;
  }
  bool number_unsigned(Json::number_unsigned_t v) {
    if (!at_value(JsonType::kNumber)) return true;
    if (target_.slot == Slot::kRating) {
      record_.rating = static_cast<float>(v);
    } else if (target_.slot == Slot::kTimestamp) {
      record_.timestamp = timestamp_from_unsigned(v, target_.scale, target_.name);
    } else if (target_.slot != Slot::kIgnore) {
      wrong(JsonType::kNumber);
    }
    return true;
  }
  bool number_float(Json::number_float_t v, const Json::string_t& raw) {
    if (!at_value(JsonType::kNumber)) return true;
    if (target_.slot == Slot::kRating) {
      record_.rating = rating_from_text(raw, target_.name);
    } else if (target_.slot == Slot::kTimestamp) {
      record_.timestamp = timestamp_from_float(v, target_.scale, target_.name);
    } else if (target_.slot != Slot::kIgnore) {
      wrong(JsonType::kNumber);
    }
    return true;
  }
  bool string(Json::string_t& v) {
    if (!at_value(JsonType::kString)) return true;
    if (target_.slot == Slot::kString) {
      target_.str->assign(v);
    } else if (target_.slot != Slot::kIgnore) {
      wrong(JsonType::kString);
    }
    return true;
  }
  bool start_object(std::size_t) { return open(JsonType::kObject); }
  bool start_array(std::size_t) { return open(JsonType::kArray); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

 private:
  // True when a scalar sits directly in the root object (the only place we keep values).
  bool at_value(JsonType type) {
    if (depth_ == 0)
      throw DataError(seller::detail::concat("expected a JSON object, got ", type_name(type)));
    return depth_ == 1;
  }
  bool open(JsonType type) {
    if (depth_ == 0 && type != JsonType::kObject) {
      throw DataError(seller::detail::concat("expected a JSON object, got ", type_name(type)));
    }
    if (depth_ == 1 && target_.slot != Slot::kIgnore) wrong(type);
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    if (depth_ == 1) target_ = FieldTarget{};
    return true;
  }
  [[noreturn]] void wrong(JsonType got) {
    const char* expected = target_.slot == Slot::kString   ? "a string"
                           : target_.slot == Slot::kRating ? "a number"
                                                           : "an integer";
    throw_wrong_type(target_.name, expected, got);
  }

  Record& record_;
  Lookup lookup_;
  FieldTarget target_;
  int depth_ = 0;
};

}  // namespace seller::data::json
