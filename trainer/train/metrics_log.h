// The training log of a run: <run_dir>/metrics.jsonl, one JSON object per line, appended and
// flushed line by line so that a killed run keeps every line it printed. Shared by the training
// loops; `seller eval --curves` plots it.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "eval/ranking/ranking_metrics.h"
#include "trainer/core/error.h"

namespace seller::train {

class JsonlLog {
 public:
  // run_dir empty: a log that writes nothing.
  explicit JsonlLog(const std::filesystem::path& run_dir) {
    if (run_dir.empty()) return;
    std::filesystem::create_directories(run_dir);
    path_ = run_dir / "metrics.jsonl";
    out_.open(path_, std::ios::app);
    SELLER_THROW_IF_NOT(out_.good(), DataError, path_.string(), ": cannot open for appending");
  }
  void write(const nlohmann::json& j) {
    if (!out_.is_open()) return;
    out_ << j.dump() << "\n";
    out_.flush();
    SELLER_THROW_IF_NOT(out_.good(), DataError, path_.string(), ": write failed");
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

inline nlohmann::json ranking_json(const eval::RankingSummary& s) {
  return {{"count", s.count},    {"hr@5", s.hr5},   {"ndcg@5", s.ndcg5},   {"hr@10", s.hr10},
          {"ndcg@10", s.ndcg10}, {"hr@20", s.hr20}, {"ndcg@20", s.ndcg20}, {"mrr", s.mrr}};
}

}  // namespace seller::train
