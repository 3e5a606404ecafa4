// Predictions and references as JSONL records {"id": ..., "text": ...} (optional "user", "item",
// "rating", "feature"), read strictly and joined by id. Invariants:
//   - ids are JSON strings or integers and compare by their text, so 7 and "7" are one id;
//   - every error names file:line: a line that is not a JSON object (invalid UTF-8 included), a
//     missing or non-string "text", an empty prediction, a bad id or "feature", a repeated id,
//     a prediction whose id has no reference;
//   - pairs come in reference-file order, so two systems joined to the same references align;
//   - references without a prediction are counted; they are an error unless allowed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace seller::eval {

struct EvalRecord {
  std::string id;  // the id's text
  std::string text;
  std::optional<std::vector<std::string>> feature;  // "feature": a string or a list of strings
  uint64_t line = 0;
};

// Blank lines are skipped. Throws DataError (file:line) as described above; `is_prediction`
// makes an empty or whitespace-only text an error.
std::vector<EvalRecord> read_eval_records(const std::filesystem::path& path, bool is_prediction);

struct JoinedCorpus {
  std::vector<std::string> ids;
  std::vector<std::string> hyps, refs;
  // The references' "feature" per pair; empty when not every joined reference has one.
  std::vector<std::vector<std::string>> features;
  int64_t missing_predictions = 0;          // references without a prediction
  std::vector<std::string> missing_sample;  // up to 5 of their ids
};

struct JoinOptions {
  bool allow_missing = false;     // references without a prediction are skipped, not an error
  bool require_features = false;  // every reference must carry "feature"
};

// Throws DataError on an unknown prediction id (naming the prediction's file:line), on missing
// predictions unless allowed (with their count and first ids), on an empty join, and with
// require_features on a reference without "feature" (file:line).
JoinedCorpus join_by_id(const std::vector<EvalRecord>& preds,
                        const std::filesystem::path& pred_path, const std::vector<EvalRecord>& refs,
                        const std::filesystem::path& ref_path, const JoinOptions& options);

// read + join.
JoinedCorpus load_joined(const std::filesystem::path& pred_path,
                         const std::filesystem::path& ref_path, const JoinOptions& options);

}  // namespace seller::eval
