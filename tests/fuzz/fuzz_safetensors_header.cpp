// libFuzzer target: arbitrary bytes as a whole safetensors file. FormatError is the expected
// outcome for bad input; for accepted input every view must lie inside the buffer, tile the data
// area and be readable (ASan checks the reads). Any other exception, crash or sanitizer report
// is a finding.
#include <cstddef>
#include <cstdint>
#include <span>

#include "trainer/core/error.h"
#include "trainer/io/safetensors_reader.h"
#include "trainer/io/safetensors_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  try {
    const auto header = seller::io::parse_safetensors_header(bytes, "fuzz.safetensors");
    uint64_t cursor = 0;
    std::vector<seller::io::TensorView> views;
    for (const auto& t : header.tensors) {
      if (t.begin != cursor || t.end < t.begin || header.data_offset + t.end > size)
        __builtin_trap();
      cursor = t.end;
      const auto view = bytes.subspan(header.data_offset + t.begin, t.end - t.begin);
      unsigned sum = 0;
      for (std::byte b : view) sum += static_cast<unsigned>(b);
      (void)sum;
      views.push_back({t.name, t.dtype, t.shape, view});
    }
    if (cursor != header.data_bytes) __builtin_trap();
    // Whatever we accept, our writer must be able to write back in the reference layout.
    const auto layout = seller::io::plan_safetensors(views, header.metadata, "fuzz-out");
    if (layout.data_bytes != header.data_bytes) __builtin_trap();
  } catch (const seller::FormatError&) {
  }
  return 0;
}
