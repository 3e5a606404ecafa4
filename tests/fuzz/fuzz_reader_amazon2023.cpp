// libFuzzer target for the Amazon 2023 reader (history and plain shapes): every input line
// through parse_amazon2023_line. seller::Error is an accepted outcome; anything else is a
// finding. Checks that every emitted record has a user and an item.
#include <cstdint>
#include <string_view>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/readers/amazon2023_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<seller::data::Record> records;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    try {
      if (seller::data::parse_amazon2023_line(input.substr(start, end - start), records)) {
        if (records.empty()) __builtin_trap();
        for (const auto& r : records) {
          if (r.user.empty() || r.item.empty()) __builtin_trap();
        }
      }
    } catch (const seller::Error&) {
    }
    start = end + 1;
  }
  return 0;
}
