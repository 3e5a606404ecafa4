// libFuzzer target: arbitrary bytes as a YAML config file and as a --set override.
// ConfigError is the expected outcome for bad input; any other exception, crash, sanitizer
// report or leak is a finding.
#include <cstddef>
#include <cstdint>
#include <string>

#include "trainer/core/config.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    seller::core::Config config;
    seller::core::ConfigLoader loader(config);
    try {
      loader.apply_text(text, "fuzz.yaml");
      loader.validate();
      (void)loader.dump();
    } catch (const seller::ConfigError&) {
    }
  }
  {
    seller::core::Config config;
    seller::core::ConfigLoader loader(config);
    try {
      loader.apply_override(text);
    } catch (const seller::ConfigError&) {
    }
  }
  return 0;
}
