// YAML -> typed config: the visitors that apply, validate and dump a ConfigSection tree.
// Scalars are converted strictly (an int field rejects "1.5", "12abc" and "yes"; a bool field
// accepts only true/false) because a silently coerced value is the config bug users never find.
#include "trainer/core/config_loader.h"

// yaml-cpp 0.7's node/impl.h trips GCC 12's -Wdangling-pointer in code we do not own.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
#include <yaml-cpp/yaml.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "trainer/core/error.h"

namespace seller::core {
namespace {

std::string where(const std::string& origin, const YAML::Mark& mark) {
  // yaml-cpp marks are 0-based; a node built from --set has no useful position.
  if (origin.rfind("--set", 0) == 0 || mark.line < 0) return origin;
  return origin + ":" + std::to_string(mark.line + 1);
}

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    default: return "an undefined value";
  }
}

[[noreturn]] void type_error(const std::string& path, const std::string& at,
                             const YAML::Node& n, std::string_view expected) {
  throw ConfigError(detail::concat(at, ": config key '", path, "' expects ", expected, ", got ",
                                   node_kind(n)));
}

const std::string& scalar_or_throw(const std::string& path, const std::string& at,
                                   const YAML::Node& n, std::string_view expected) {
  if (!n.IsScalar()) type_error(path, at, n, expected);
  return n.Scalar();
}

// Collects the field names of one section (to reject unknown keys before applying anything).
class NameCollector final : public FieldVisitor {
 public:
  std::vector<std::string> names;
  void field(std::string_view n, bool&, std::string_view) override { add(n); }
  void field(std::string_view n, int64_t&, std::string_view) override { add(n); }
  void field(std::string_view n, double&, std::string_view) override { add(n); }
  void field(std::string_view n, std::string&, std::string_view) override { add(n); }
  void field(std::string_view n, std::vector<std::string>&, std::string_view) override { add(n); }
  void choice(std::string_view n, std::string&, std::initializer_list<std::string_view>,
              std::string_view) override { add(n); }
  void section(std::string_view n, ConfigSection&, std::string_view) override { add(n); }

 private:
  void add(std::string_view n) { names.emplace_back(n); }
};

// Applies a YAML mapping onto one section, recursing into sub-sections.
class Applier final : public FieldVisitor {
 public:
  Applier(const YAML::Node& map, std::string prefix, const std::string& origin,
          std::map<std::string, std::string>& origins)
      : map_(map), prefix_(std::move(prefix)), origin_(origin), origins_(origins) {}

  void check_keys(ConfigSection& section) {
    NameCollector names;
    section.visit(names);
    std::set<std::string> seen;
    for (auto it = map_.begin(); it != map_.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: the iterator yields a temporary pair
      std::string at = where(origin_, key.Mark());
      if (!key.IsScalar()) throw ConfigError(at + ": config keys must be plain names");
      const std::string& k = key.Scalar();
      if (!seen.insert(k).second)
        throw ConfigError(detail::concat(at, ": config key '", prefix_ + k, "' is given twice"));
      bool known = false;
      for (const auto& n : names.names) known = known || n == k;
      if (!known) {
        std::string valid;
        for (const auto& n : names.names) valid += (valid.empty() ? "" : ", ") + n;
        throw ConfigError(detail::concat(at, ": unknown config key '", prefix_ + k,
                                         "' (valid keys", prefix_.empty() ? "" : " under '",
                                         prefix_.empty() ? "" : prefix_.substr(0, prefix_.size() - 1),
                                         prefix_.empty() ? "" : "'", ": ", valid, ")"));
      }
    }
  }

  void field(std::string_view name, bool& value, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      const std::string& s = scalar_or_throw(path, at, n, "a boolean (true or false)");
      if (s == "true" || s == "True" || s == "TRUE") value = true;
      else if (s == "false" || s == "False" || s == "FALSE") value = false;
      else type_error(path, at, n, "a boolean (true or false)");
    });
  }
  void field(std::string_view name, int64_t& value, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      const std::string& s = scalar_or_throw(path, at, n, "an integer");
      std::string_view sv = s;
      if (!sv.empty() && sv.front() == '+') sv.remove_prefix(1);
      int64_t parsed = 0;
      auto [end, ec] = std::from_chars(sv.data(), sv.data() + sv.size(), parsed);
      if (ec == std::errc::result_out_of_range)
        type_error(path, at, n, "an integer within 64 bits");
      if (ec != std::errc() || end != sv.data() + sv.size() || sv.empty())
        type_error(path, at, n, "an integer");
      value = parsed;
    });
  }
  void field(std::string_view name, double& value, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      const std::string& s = scalar_or_throw(path, at, n, "a number");
      char* end = nullptr;
      errno = 0;
      double parsed = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size() || errno == ERANGE || !std::isfinite(parsed))
        type_error(path, at, n, "a finite number");
      value = parsed;
    });
  }
  void field(std::string_view name, std::string& value, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      value = scalar_or_throw(path, at, n, "a string");
    });
  }
  void field(std::string_view name, std::vector<std::string>& value, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      if (!n.IsSequence()) type_error(path, at, n, "a list of strings");
      std::vector<std::string> out;
      for (const auto& item : n) {
        out.push_back(scalar_or_throw(path, where(origin_, item.Mark()), item, "a string"));
      }
      value = std::move(out);
    });
  }
  void choice(std::string_view name, std::string& value,
              std::initializer_list<std::string_view> allowed, std::string_view) override {
    with(name, [&](const YAML::Node& n, const std::string& path, const std::string& at) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : " | ") + std::string(a);
      const std::string& s = scalar_or_throw(path, at, n, "one of " + list);
      for (auto a : allowed)
        if (s == a) {
          value = s;
          return;
        }
      type_error(path, at, n, "one of " + list);
    });
  }
  void section(std::string_view name, ConfigSection& value, std::string_view) override {
    const YAML::Node n = map_[std::string(name)];
    if (!n) return;
    std::string path = prefix_ + std::string(name);
    std::string at = where(origin_, n.Mark());
    if (n.IsNull()) return;  // "data:" with nothing under it leaves the defaults
    if (!n.IsMap()) type_error(path, at, n, "a mapping of keys");
    Applier sub(n, path + ".", origin_, origins_);
    sub.check_keys(value);
    value.visit(sub);
  }

 private:
  template <class Fn>
  void with(std::string_view name, Fn&& apply) {
    const YAML::Node n = map_[std::string(name)];
    if (!n) return;
    std::string path = prefix_ + std::string(name);
    std::string at = where(origin_, n.Mark());
    apply(n, path, at);
    origins_[path] = at;
  }

  const YAML::Node& map_;
  std::string prefix_;
  const std::string& origin_;
  std::map<std::string, std::string>& origins_;
};

// Calls validate() on every section with the key prefix set.
class ValidateWalker final : public FieldVisitor {
 public:
  explicit ValidateWalker(Validator& v) : v_(v) {}
  void field(std::string_view, bool&, std::string_view) override {}
  void field(std::string_view, int64_t&, std::string_view) override {}
  void field(std::string_view, double&, std::string_view) override {}
  void field(std::string_view, std::string&, std::string_view) override {}
  void field(std::string_view, std::vector<std::string>&, std::string_view) override {}
  void choice(std::string_view, std::string&, std::initializer_list<std::string_view>,
              std::string_view) override {}
  void section(std::string_view name, ConfigSection& s, std::string_view) override {
    v_.enter(name);
    s.validate(v_);
    s.visit(*this);
    v_.leave();
  }

 private:
  Validator& v_;
};

std::string format_double(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip form
  std::string s(buf, end);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

// Writes the resolved values as YAML with the docs as comments.
class Dumper final : public FieldVisitor {
 public:
  explicit Dumper(YAML::Emitter& out) : out_(out) {}
  void field(std::string_view n, bool& v, std::string_view d) override { emit(n, v, d); }
  void field(std::string_view n, int64_t& v, std::string_view d) override { emit(n, v, d); }
  void field(std::string_view n, double& v, std::string_view d) override {
    emit_raw(n, format_double(v), d);
  }
  void field(std::string_view n, std::string& v, std::string_view d) override {
    out_ << YAML::Key << std::string(n) << YAML::Value << YAML::DoubleQuoted << v
         << YAML::Comment(std::string(d));
  }
  void field(std::string_view n, std::vector<std::string>& v, std::string_view d) override {
    out_ << YAML::Key << std::string(n) << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& s : v) out_ << YAML::DoubleQuoted << s;
    out_ << YAML::EndSeq << YAML::Comment(std::string(d));
  }
  void choice(std::string_view n, std::string& v, std::initializer_list<std::string_view>,
              std::string_view d) override {
    emit(n, v, d);
  }
  void section(std::string_view n, ConfigSection& s, std::string_view d) override {
    out_ << YAML::Key << std::string(n) << YAML::Comment(std::string(d)) << YAML::Value
         << YAML::BeginMap;
    s.visit(*this);
    out_ << YAML::EndMap;
  }

 private:
  template <class T>
  void emit(std::string_view n, const T& v, std::string_view d) {
    out_ << YAML::Key << std::string(n) << YAML::Value << v << YAML::Comment(std::string(d));
  }
  void emit_raw(std::string_view n, const std::string& v, std::string_view d) {
    out_ << YAML::Key << std::string(n) << YAML::Value << v << YAML::Comment(std::string(d));
  }
  YAML::Emitter& out_;
};

}  // namespace

void ConfigLoader::apply_node(const YAML::Node& node, const std::string& origin) {
  if (!node || node.IsNull()) return;  // an empty file changes nothing
  if (!node.IsMap())
    throw ConfigError(where(origin, node.Mark()) + ": a config file must be a mapping of keys, got " +
                      node_kind(node));
  Applier applier(node, "", origin, origins_);
  applier.check_keys(root_);
  root_.visit(applier);
}

void ConfigLoader::apply_text(std::string_view yaml, const std::string& origin) {
  YAML::Node node;
  try {
    node = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw ConfigError(detail::concat(origin, ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  apply_node(node, origin);
}

void ConfigLoader::apply_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError("cannot read config file '" + file.string() + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  apply_text(ss.str(), file.string());
}

void ConfigLoader::apply_override(std::string_view assignment) {
  const std::string origin = "--set " + std::string(assignment);
  auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw ConfigError(origin + ": expected key.path=value");
  std::string path(assignment.substr(0, eq));
  std::string value(assignment.substr(eq + 1));
  YAML::Node parsed;
  try {
    parsed = value.empty() ? YAML::Node(std::string()) : YAML::Load(value);
  } catch (const YAML::Exception& e) {
    throw ConfigError(origin + ": invalid value: " + e.msg);
  }
  if (parsed.IsNull() && !value.empty() && value != "null" && value != "~")
    parsed = YAML::Node(value);
  // Build {a: {b: {c: value}}} and apply it like a file, so every check is shared.
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  while (true) {
    auto dot = path.find('.', start);
    parts.push_back(path.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  for (const auto& p : parts)
    if (p.empty()) throw ConfigError(origin + ": empty component in key path '" + path + "'");
  YAML::Node node = parsed;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    YAML::Node parent(YAML::NodeType::Map);
    parent[*it] = node;
    node = parent;
  }
  apply_node(node, origin);
}

void ConfigLoader::validate() {
  Validator v([this](const std::string& path) { return origin(path); });
  root_.validate(v);
  ValidateWalker walker(v);
  root_.visit(walker);
  if (v.violations().empty()) return;
  std::string msg = "invalid config:";
  for (const auto& s : v.violations()) msg += "\n  " + s;
  throw ConfigError(msg);
}

std::string ConfigLoader::dump() {
  YAML::Emitter out;
  out << YAML::BeginMap;
  Dumper dumper(out);
  root_.visit(dumper);
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

std::string ConfigLoader::origin(const std::string& path) const {
  auto it = origins_.find(path);
  return it == origins_.end() ? "default" : it->second;
}

void Validator::enter(std::string_view section) { prefix_.emplace_back(section); }
void Validator::leave() { prefix_.pop_back(); }

std::string Validator::to_text(double v) { return format_double(v); }

void Validator::add_violation(std::string_view key, const std::string& value,
                              std::string_view message) {
  std::string path;
  for (const auto& p : prefix_) path += p + ".";
  path += key;
  violations_.push_back(detail::concat("config key '", path, "' = ", value, " ", message,
                                       " (set by ", origin_of_(path), ")"));
}

}  // namespace seller::core
