// The fields of a predictions/references JSONL line that the utility metrics need beyond
// joined_corpus.h's id/text/feature: "user", "item" (original ids of the prepared dataset, JSON
// strings or integers compared by their text, as ids are) and "rating" (a finite number).
// Invariants: every error names file:line and the record id; absent or null fields stay empty
// (whether a metric can run is decided by the caller over the joined pairs, not per line).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>

namespace seller::eval {

struct UtilityFields {
  std::optional<std::string> user, item;
  std::optional<double> rating;
  uint64_t line = 0;
};

// id -> fields, for every non-blank line (the file was validated by read_eval_records, which
// owns the id and text rules; this reads only the extra fields). Throws DataError (file:line, id)
// on a "user"/"item" that is not a string or integer, or a "rating" that is not a finite number.
std::unordered_map<std::string, UtilityFields> read_utility_fields(
    const std::filesystem::path& path);

}  // namespace seller::eval
