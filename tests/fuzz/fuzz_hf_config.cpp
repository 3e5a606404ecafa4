// libFuzzer target: arbitrary bytes as a Hugging Face config.json. ConfigError is the expected
// outcome for bad input; an accepted config must write back to JSON that parses to the same
// text again (parse -> write -> parse -> write is a fixed point). Any other exception, crash or
// sanitizer report is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "trainer/core/error.h"
#include "trainer/io/hf_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto config = seller::io::parse_hf_config(text, "fuzz/config.json");
    const std::string written = seller::io::hf_config_to_json(config);
    const auto again = seller::io::parse_hf_config(written, "fuzz/written.json");
    if (seller::io::hf_config_to_json(again) != written) __builtin_trap();
  } catch (const seller::ConfigError&) {
  }
  return 0;
}
