// libFuzzer target for the S3-Rec / P5 sequence line parser. seller::Error is an accepted
// outcome; anything else is a finding. Checks that a parsed line has at least one item.
#include <cstdint>
#include <string_view>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/readers/s3rec_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<uint64_t> items;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    try {
      uint64_t user = 0;
      if (seller::data::parse_s3rec_line(input.substr(start, end - start), user, items)) {
        if (items.empty()) __builtin_trap();
      }
    } catch (const seller::Error&) {
    }
    start = end + 1;
  }
  return 0;
}
