// Resolution of --config/--set/--dump-config (see cli_config.h).
#include "launch/cli_config.h"

#include <iostream>

#include "trainer/core/config_loader.h"

namespace seller::launch {

void add_config_options(CLI::App& cmd, ConfigOptions& options) {
  cmd.add_option("--config", options.files, "YAML config file(s), applied in order")
      ->check(CLI::ExistingFile);
  cmd.add_option("--set", options.overrides,
                 "override a config value: key.path=value (repeatable, applied last)");
  cmd.add_flag("--dump-config", options.dump, "print the resolved config and exit");
}

bool resolve_config(const ConfigOptions& options, core::Config& out, std::string* resolved_yaml) {
  core::ConfigLoader loader(out);
  for (const auto& f : options.files) loader.apply_file(f);
  for (const auto& o : options.overrides) loader.apply_override(o);
  loader.validate();
  if (resolved_yaml) *resolved_yaml = loader.dump();
  if (options.dump) {
    std::cout << loader.dump();
    return true;
  }
  return false;
}

}  // namespace seller::launch
