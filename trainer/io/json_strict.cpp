// Strict JSON parsing (see json_strict.h).
#include "trainer/io/json_strict.h"

#include <set>
#include <stdexcept>
#include <vector>

namespace seller::io {
namespace {
// Thrown from the parse callback to stop parsing with a reason.
struct StrictJsonViolation : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

std::optional<nlohmann::json> parse_json_strict(std::string_view text, std::string* error) {
  using nlohmann::json;
  // nlohmann's lexer takes a NUL byte as the end of the input and would ignore what follows.
  if (const auto nul = text.find('\0'); nul != std::string_view::npos) {
    *error = "NUL byte at offset " + std::to_string(nul);
    return std::nullopt;
  }
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&open_objects](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxJsonDepth) {
      throw StrictJsonViolation("JSON nested deeper than " + std::to_string(kMaxJsonDepth));
    }
    switch (event) {
      case json::parse_event_t::object_start:
        open_objects.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string()) {
          const auto& key = parsed.get_ref<const std::string&>();
          if (!open_objects.back().insert(key).second) {
            throw StrictJsonViolation("JSON object repeats the key \"" + key + "\"");
          }
        }
        break;
      default:
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/true,
                       /*ignore_comments=*/false);
  } catch (const StrictJsonViolation& e) {
    *error = e.what();
  } catch (const json::exception& e) {
    *error = e.what();
  }
  return std::nullopt;
}

}  // namespace seller::io
