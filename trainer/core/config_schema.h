// The reflection layer of seller's typed configuration.
//
// A config section is a plain struct with default member values that lists its fields once in
// visit(); every generic operation (loading YAML, applying --set overrides, rejecting unknown keys,
// dumping the resolved config) is a FieldVisitor over that list, so adding a key is one line.
// Invariants: field names are unique within a section; every field has a default; validate()
// only reads values and reports through the Validator, which knows where each value was set.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace seller::core {

class Validator;

// Receives each field of a section with a reference to its value.
class FieldVisitor {
 public:
  virtual ~FieldVisitor() = default;
  virtual void field(std::string_view name, bool& value, std::string_view doc) = 0;
  virtual void field(std::string_view name, int64_t& value, std::string_view doc) = 0;
  virtual void field(std::string_view name, double& value, std::string_view doc) = 0;
  virtual void field(std::string_view name, std::string& value, std::string_view doc) = 0;
  virtual void field(std::string_view name, std::vector<std::string>& value,
                     std::string_view doc) = 0;
  // A string restricted to a fixed set of names (an enum spelled as in YAML).
  virtual void choice(std::string_view name, std::string& value,
                      std::initializer_list<std::string_view> allowed, std::string_view doc) = 0;
  virtual void section(std::string_view name, struct ConfigSection& value,
                       std::string_view doc) = 0;
};

// Base of every config struct: the field list and the cross-field checks.
struct ConfigSection {
  virtual ~ConfigSection() = default;
  virtual void visit(FieldVisitor& v) = 0;
  virtual void validate(Validator& /*check*/) const {}
};

// Collects violations of value constraints; each names the full key path, the value and where
// it was set (file:line, --set, or default). Owned by the loader.
class Validator {
 public:
  // origin_of(path) -> "configs/a.yaml:12", "--set data.x=3" or "default".
  using OriginFn = std::function<std::string(const std::string& path)>;
  explicit Validator(OriginFn origin_of) : origin_of_(std::move(origin_of)) {}

  // Records a violation unless ok. `key` is relative to the current section.
  template <class T>
  void require(bool ok, std::string_view key, const T& value, std::string_view message) {
    if (!ok) add_violation(key, to_text(value), message);
  }

  void enter(std::string_view section);  // pushes "section." onto the key prefix
  void leave();
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  static std::string to_text(const std::string& v) { return "'" + v + "'"; }
  static std::string to_text(const char* v) { return "'" + std::string(v) + "'"; }
  static std::string to_text(bool v) { return v ? "true" : "false"; }
  static std::string to_text(int64_t v) { return std::to_string(v); }
  static std::string to_text(double v);
  void add_violation(std::string_view key, const std::string& value, std::string_view message);

  OriginFn origin_of_;
  std::vector<std::string> prefix_;
  std::vector<std::string> violations_;
};

}  // namespace seller::core
