// Implementation of reading the utility fields of eval JSONL records (see utility_records.h).
#include "eval/utility/utility_records.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "trainer/core/error.h"
#include "trainer/io/line_reader.h"

namespace seller::eval {
namespace {

std::optional<std::string> id_field(const nlohmann::json& obj, const char* key,
                                    const std::string& where, const std::string& id) {
  if (!obj.contains(key) || obj[key].is_null()) return std::nullopt;
  const auto& v = obj[key];
  if (v.is_string() && !v.get<std::string>().empty()) return v.get<std::string>();
  if (v.is_number_integer()) return v.dump();
  throw DataError(where + ": \"" + key + "\" must be a non-empty string or an integer (id " + id +
                  "), got " + v.dump());
}

}  // namespace

std::unordered_map<std::string, UtilityFields> read_utility_fields(
    const std::filesystem::path& path) {
  io::LineReader reader(path);
  std::unordered_map<std::string, UtilityFields> out;
  std::string_view line;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos) continue;
    const std::string where = path.string() + ":" + std::to_string(reader.line_number());
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(where + ": not valid JSON (" + e.what() + ")");
    }
    SELLER_THROW_IF_NOT(obj.is_object() && obj.contains("id"), DataError, where,
                        ": not a JSON object with an \"id\"");
    const auto& idj = obj["id"];
    const std::string id = idj.is_string() ? idj.get<std::string>() : idj.dump();
    UtilityFields f;
    f.line = reader.line_number();
    f.user = id_field(obj, "user", where, id);
    f.item = id_field(obj, "item", where, id);
    if (obj.contains("rating") && !obj["rating"].is_null()) {
      const auto& r = obj["rating"];
      SELLER_THROW_IF_NOT(r.is_number() && std::isfinite(r.get<double>()), DataError, where,
                          ": \"rating\" must be a finite number (id ", id, "), got ", r.dump());
      f.rating = r.get<double>();
    }
    out[id] = std::move(f);
  }
  return out;
}

}  // namespace seller::eval
