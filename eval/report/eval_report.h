// The text-quality report of `seller eval`: every metric eval/text allows on a joined corpus,
// with bootstrap confidence intervals for the metrics that resample soundly, one or two systems,
// as JSON (metrics.json) and as a Markdown table (report.md). Invariants:
//   - values are evaluate_text_quality's (the library the oracles check); the bootstrap only adds
//     intervals and p-values, from per-pair sufficient statistics (BLEU n-gram counts, per-pair
//     ROUGE, per-pair FMR hits) re-summed with each replicate's multiplicities;
//   - USR/USN, distinct-n, FCR, DIV and length statistics get no interval: resampling with
//     replacement duplicates texts, which biases set-based diversity by construction;
//   - every key and label names its variant (tokenizer and reference implementation);
//   - the same inputs, replicates and seed give byte-identical outputs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/report/joined_corpus.h"
#include "eval/stats/bootstrap.h"
#include "eval/text/text_report.h"

namespace seller::eval {

struct MetricRow {
  std::string key;           // e.g. "bleu4_peter", "rouge1_f_rouge_score"
  std::string label;         // e.g. "BLEU-4 (PETER tokens, TF-NMT compute_bleu)"
  double display_scale = 1;  // markdown shows value * display_scale (ROUGE: 100)
  int decimals = 2;
  bool higher_is_better = true;
  double value = 0;
  std::optional<ConfidenceInterval> ci;  // resampled metrics only
};

struct SystemReport {
  TextQualityReport text;
  std::vector<MetricRow> rows;
};

// Per-pair sufficient statistics of one system, for the bootstrap.
class PairStatistics {
 public:
  explicit PairStatistics(const JoinedCorpus& corpus);
  size_t size() const { return n_; }
  // Keys/labels of the resampled metrics, in the order weighted() returns them.
  const std::vector<MetricRow>& metrics() const { return templates_; }
  std::vector<double> weighted(const std::vector<uint32_t>& weights) const;

 private:
  size_t n_ = 0;
  std::vector<BleuCounts> peter_, sacre_;
  std::vector<std::vector<double>> per_pair_;  // ROUGE P/R/F (both variants), FMR hit
  std::vector<MetricRow> templates_;
};

SystemReport evaluate_system(const JoinedCorpus& corpus, const BootstrapOptions& options);

struct ComparisonRow {
  MetricRow a, b;
  std::optional<PairedComparison> test;  // resampled metrics only
};

// Both corpora must hold the same ids in the same order (DataError otherwise).
std::vector<ComparisonRow> compare_systems(const JoinedCorpus& a, const JoinedCorpus& b,
                                           const BootstrapOptions& options);

struct ReportContext {
  std::vector<std::string> systems;  // pred file(s)
  std::string ref;
  int64_t n = 0;
  int64_t missing_predictions = 0;
  BootstrapOptions bootstrap;
};

nlohmann::json report_json(const SystemReport& report, const ReportContext& context);
std::string report_markdown(const SystemReport& report, const ReportContext& context);
nlohmann::json comparison_json(const std::vector<ComparisonRow>& rows,
                               const ReportContext& context);
std::string comparison_markdown(const std::vector<ComparisonRow>& rows,
                                const ReportContext& context);

}  // namespace seller::eval
