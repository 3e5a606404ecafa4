// Loads a typed config (any ConfigSection tree) from YAML files and --set overrides.
//
// Order: the struct's defaults, then each file in the order given, then each override.
// Every key must name a field: an unknown key, a value of the wrong type (with the expected
// type), a duplicated key or an impossible value is a ConfigError naming the full key path, the
// file and line (or the --set argument) and the offending value. validate() reports all value
// violations at once. The loader remembers where each value came from for those messages and
// for dump(), which prints the resolved config as YAML that loads back to the same values.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/core/config_schema.h"

namespace YAML {
class Node;
}

namespace seller::core {

class ConfigLoader {
 public:
  explicit ConfigLoader(ConfigSection& root) : root_(root) {}

  // Applies one YAML file. Throws ConfigError for a missing file, bad YAML, unknown keys and
  // type errors (file:line in the message).
  void apply_file(const std::filesystem::path& file);

  // Applies YAML text; `origin` names it in messages (e.g. a file name).
  void apply_text(std::string_view yaml, const std::string& origin);

  // Applies "a.b.c=value"; the value is parsed as YAML (so lists work: a.b=[x, y]).
  void apply_override(std::string_view assignment);

  // Runs every section's validate(); throws one ConfigError listing all violations.
  void validate();

  // The resolved config as YAML, with each field's doc as a comment.
  std::string dump();

  // Where the value at `path` (e.g. "data.split") was last set: "file:line", "--set ..." or
  // "default".
  std::string origin(const std::string& path) const;

 private:
  void apply_node(const YAML::Node& node, const std::string& origin_file);

  ConfigSection& root_;
  std::map<std::string, std::string> origins_;
};

// Convenience: defaults < files < overrides, then validate. Throws ConfigError.
template <class ConfigT>
ConfigT load_config(const std::vector<std::filesystem::path>& files,
                    const std::vector<std::string>& overrides) {
  ConfigT config;
  ConfigLoader loader(config);
  for (const auto& f : files) loader.apply_file(f);
  for (const auto& o : overrides) loader.apply_override(o);
  loader.validate();
  return config;
}

}  // namespace seller::core
