// libFuzzer target for the normalised record JSONL: each input line through parse_record_jsonl;
// a line that parses must survive append_record_jsonl -> parse_record_jsonl unchanged (the
// exact round trip the format promises for valid UTF-8, which the parser guarantees).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "trainer/core/error.h"
#include "trainer/data/readers/normalised_jsonl.h"

namespace {
bool same(const seller::data::Record& a, const seller::data::Record& b) {
  const bool rating_same = (std::isnan(a.rating) && std::isnan(b.rating)) ||
                           std::memcmp(&a.rating, &b.rating, sizeof(float)) == 0;
  return a.user == b.user && a.item == b.item && rating_same && a.timestamp == b.timestamp &&
         a.review == b.review && a.summary == b.summary && a.title == b.title &&
         a.description == b.description && a.category == b.category && a.feature == b.feature;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  seller::data::Record record, again;
  std::string line;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    bool parsed = false;
    try {
      parsed = seller::data::parse_record_jsonl(input.substr(start, end - start), record);
    } catch (const seller::Error&) {
    }
    if (parsed) {
      line.clear();
      seller::data::append_record_jsonl(record, line);  // must not throw: rating is finite
      line.pop_back();
      if (!seller::data::parse_record_jsonl(line, again) || !same(record, again)) {
        __builtin_trap();
      }
    }
    start = end + 1;
  }
  return 0;
}
