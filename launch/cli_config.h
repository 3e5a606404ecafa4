// The config options every subcommand shares: --config FILE (repeatable), --set key=value
// (repeatable) and --dump-config, and their resolution into a validated core::Config.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "trainer/core/config.h"

namespace seller::launch {

struct ConfigOptions {
  std::vector<std::string> files;
  std::vector<std::string> overrides;
  bool dump = false;
};

// Adds --config, --set and --dump-config to a subcommand.
void add_config_options(CLI::App& cmd, ConfigOptions& options);

// Defaults < files < overrides, validated. Throws ConfigError. When options.dump is set, prints
// the resolved config to stdout and returns true (the caller then exits without running).
// resolved_yaml, when given, receives the resolved config as YAML (what a run saves).
bool resolve_config(const ConfigOptions& options, core::Config& out,
                    std::string* resolved_yaml = nullptr);

// Exit codes shared by the subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;           // bad input, bad config, failed run
inline constexpr int kExitNotImplemented = 2;  // the subcommand does not exist yet

}  // namespace seller::launch
