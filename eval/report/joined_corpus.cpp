// Implementation of JSONL reading and the join by id (see joined_corpus.h).
#include "eval/report/joined_corpus.h"

#include <nlohmann/json.hpp>

#include <unordered_map>

#include "trainer/core/error.h"
#include "trainer/io/line_reader.h"

namespace seller::eval {
namespace {

bool is_blank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos;
}

std::string id_text(const nlohmann::json& id, const std::string& where) {
  if (id.is_string()) {
    std::string s = id.get<std::string>();
    SELLER_THROW_IF_NOT(!s.empty(), DataError, where, ": \"id\" is an empty string");
    return s;
  }
  if (id.is_number_integer()) return id.dump();
  throw DataError(where + ": \"id\" must be a string or an integer, got " + id.dump());
}

}  // namespace

std::vector<EvalRecord> read_eval_records(const std::filesystem::path& path, bool is_prediction) {
  io::LineReader reader(path);
  std::vector<EvalRecord> out;
  std::unordered_map<std::string, uint64_t> seen;
  std::string_view line;
  while (reader.next(line)) {
    if (is_blank(line)) continue;
    const std::string where = path.string() + ":" + std::to_string(reader.line_number());
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(where + ": not valid JSON (" + e.what() + ")");
    }
    SELLER_THROW_IF_NOT(obj.is_object(), DataError, where, ": not a JSON object");
    SELLER_THROW_IF_NOT(obj.contains("id"), DataError, where, ": missing \"id\"");
    EvalRecord r;
    r.line = reader.line_number();
    r.id = id_text(obj["id"], where);
    SELLER_THROW_IF_NOT(obj.contains("text") && obj["text"].is_string(), DataError, where,
                        ": \"text\" must be a string (id ", r.id, ")");
    r.text = obj["text"].get<std::string>();
    if (is_prediction)
      SELLER_THROW_IF_NOT(!is_blank(r.text), DataError, where, ": empty prediction (id ", r.id,
                          ")");
    if (obj.contains("feature") && !obj["feature"].is_null()) {
      const auto& f = obj["feature"];
      std::vector<std::string> features;
      if (f.is_string()) {
        features.push_back(f.get<std::string>());
      } else if (f.is_array()) {
        for (const auto& x : f) {
          SELLER_THROW_IF_NOT(x.is_string(), DataError, where,
                              ": \"feature\" must be a string or a list of strings");
          features.push_back(x.get<std::string>());
        }
      } else {
        throw DataError(where + ": \"feature\" must be a string or a list of strings");
      }
      r.feature = std::move(features);
    }
    const auto [it, fresh] = seen.emplace(r.id, r.line);
    SELLER_THROW_IF_NOT(fresh, DataError, where, ": duplicate id ", r.id, " (first at line ",
                        it->second, ")");
    out.push_back(std::move(r));
  }
  return out;
}

JoinedCorpus join_by_id(const std::vector<EvalRecord>& preds,
                        const std::filesystem::path& pred_path, const std::vector<EvalRecord>& refs,
                        const std::filesystem::path& ref_path, const JoinOptions& options) {
  std::unordered_map<std::string, size_t> ref_index;
  for (size_t i = 0; i < refs.size(); ++i) ref_index.emplace(refs[i].id, i);
  std::vector<const EvalRecord*> pred_of(refs.size(), nullptr);
  for (const EvalRecord& p : preds) {
    const auto it = ref_index.find(p.id);
    SELLER_THROW_IF_NOT(it != ref_index.end(), DataError, pred_path.string(), ":", p.line,
                        ": prediction id ", p.id, " has no reference in ", ref_path.string());
    pred_of[it->second] = &p;
  }
  JoinedCorpus j;
  bool all_features = true;
  for (size_t i = 0; i < refs.size(); ++i) {
    if (!pred_of[i]) {
      ++j.missing_predictions;
      if (j.missing_sample.size() < 5) j.missing_sample.push_back(refs[i].id);
      continue;
    }
    if (options.require_features)
      SELLER_THROW_IF_NOT(refs[i].feature.has_value(), DataError, ref_path.string(), ":",
                          refs[i].line, ": no \"feature\" (id ", refs[i].id,
                          ") but feature metrics were requested");
    j.ids.push_back(refs[i].id);
    j.hyps.push_back(pred_of[i]->text);
    j.refs.push_back(refs[i].text);
    all_features = all_features && refs[i].feature.has_value();
    j.features.push_back(refs[i].feature.value_or(std::vector<std::string>{}));
  }
  if (!all_features) j.features.clear();
  if (j.missing_predictions > 0 && !options.allow_missing) {
    std::string sample;
    for (const auto& id : j.missing_sample) sample += (sample.empty() ? "" : ", ") + id;
    throw DataError(std::to_string(j.missing_predictions) + " reference(s) in " +
                    ref_path.string() + " have no prediction in " + pred_path.string() + " (ids " +
                    sample + (j.missing_predictions > 5 ? ", ..." : "") +
                    "); pass --allow-missing to score only the predicted ones");
  }
  SELLER_THROW_IF_NOT(!j.hyps.empty(), DataError, "no prediction in ", pred_path.string(),
                      " matches a reference in ", ref_path.string());
  return j;
}

JoinedCorpus load_joined(const std::filesystem::path& pred_path,
                         const std::filesystem::path& ref_path, const JoinOptions& options) {
  const auto preds = read_eval_records(pred_path, /*is_prediction=*/true);
  const auto refs = read_eval_records(ref_path, /*is_prediction=*/false);
  return join_by_id(preds, pred_path, refs, ref_path, options);
}

}  // namespace seller::eval
