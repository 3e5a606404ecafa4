// Implementation of the utility report (see utility_report.h).
#include "eval/utility/utility_report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// Statistic of one condition: weighted means of per-pair values, sqrt where asked.
WeightedStatistic condition_statistic(const UtilityBlock& block, size_t c) {
  return [&block, c](const std::vector<uint32_t>& w) {
    const auto& rows = block.values[c];
    std::vector<double> sums(block.metrics.size(), 0.0);
    double total = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (w[i] == 0) continue;
      for (size_t m = 0; m < sums.size(); ++m) sums[m] += w[i] * rows[i][m];
      total += w[i];
    }
    for (size_t m = 0; m < sums.size(); ++m) {
      sums[m] /= total;
      if (block.metrics[m].root_of_mean) sums[m] = std::sqrt(sums[m]);
    }
    return sums;
  };
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

std::vector<size_t> seeded_derangement(size_t n, uint64_t seed) {
  SELLER_THROW_IF_NOT(n >= 2, DataError, "a shuffled control needs at least 2 pairs, got ", n);
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i) p[i] = i;
  SplitMix64 rng(seed ^ 0x53485546464C4544ull);  // "SHUFFLED": independent of the bootstrap
  for (size_t i = n - 1; i > 0; --i) std::swap(p[i], p[rng.below(i)]);  // j < i: Sattolo
  return p;
}

UtilitySummary summarize_utility(const UtilityBlock& block, const BootstrapOptions& options) {
  SELLER_THROW_IF_NOT(!block.values.empty() && block.values.size() == block.conditions.size(),
                      DataError, "utility ", block.name, ": ", block.values.size(),
                      " value sets for ", block.conditions.size(), " conditions");
  const size_t n = block.values[0].size();
  SELLER_THROW_IF_NOT(n > 0, DataError, "utility ", block.name, ": no pair");
  for (const auto& v : block.values) {
    SELLER_THROW_IF_NOT(v.size() == n, DataError, "utility ", block.name,
                        ": conditions have different numbers of pairs");
    for (const auto& row : v) SELLER_CHECK(row.size() == block.metrics.size());
  }
  UtilitySummary s;
  s.block = &block;
  const std::vector<uint32_t> ones(n, 1);
  for (size_t c = 0; c < block.conditions.size(); ++c) {
    const WeightedStatistic stat = condition_statistic(block, c);
    const std::vector<double> values = stat(ones);
    const auto cis = bootstrap_ci(n, stat, options);
    std::vector<UtilityFigure> row;
    for (size_t m = 0; m < values.size(); ++m) {
      UtilityFigure f{values[m], cis[m]};
      f.ci.estimate = values[m];
      row.push_back(f);
    }
    s.figures.push_back(std::move(row));
  }
  std::vector<bool> higher;
  for (const auto& m : block.metrics) higher.push_back(m.higher_is_better);
  for (const UtilityTest& t : block.tests) {
    SELLER_CHECK(t.a < block.conditions.size() && t.b < block.conditions.size());
    auto tests = paired_bootstrap(n, condition_statistic(block, t.a),
                                  condition_statistic(block, t.b), higher, options);
    for (size_t m = 0; m < tests.size(); ++m) {
      tests[m].a.estimate = s.figures[t.a][m].value;
      tests[m].b.estimate = s.figures[t.b][m].value;
      tests[m].delta.estimate = s.figures[t.b][m].value - s.figures[t.a][m].value;
    }
    s.tested.push_back(std::move(tests));
  }
  return s;
}

nlohmann::json utility_json(const std::vector<UtilitySummary>& blocks,
                            const std::vector<std::pair<std::string, std::string>>& skipped) {
  nlohmann::json j = nlohmann::json::object();
  for (const UtilitySummary& s : blocks) {
    const UtilityBlock& b = *s.block;
    nlohmann::json metrics = nlohmann::json::object();
    for (size_t m = 0; m < b.metrics.size(); ++m) {
      nlohmann::json mj{{"label", b.metrics[m].label},
                        {"higher_is_better", b.metrics[m].higher_is_better}};
      for (size_t c = 0; c < b.conditions.size(); ++c) {
        const UtilityFigure& f = s.figures[c][m];
        mj[b.conditions[c]] = {{"value", f.value}, {"ci", {f.ci.lower, f.ci.upper}}};
      }
      metrics[b.metrics[m].key] = mj;
    }
    nlohmann::json tests = nlohmann::json::array();
    for (size_t t = 0; t < b.tests.size(); ++t) {
      nlohmann::json tm = nlohmann::json::object();
      for (size_t m = 0; m < b.metrics.size(); ++m) {
        const PairedComparison& p = s.tested[t][m];
        tm[b.metrics[m].key] = {{"delta", p.delta.estimate},
                                {"delta_ci", {p.delta.lower, p.delta.upper}},
                                {"p_value_b_better", p.p_value},
                                {"significant_at_0.05", p.p_value < 0.05}};
      }
      tests.push_back(
          {{"a", b.conditions[b.tests[t].a]}, {"b", b.conditions[b.tests[t].b]}, {"metrics", tm}});
    }
    j[b.name] = {{"method", b.method},
                 {"n", b.values[0].size()},
                 {"conditions", b.conditions},
                 {"metrics", metrics},
                 {"tests", tests}};
    if (!b.encoder.empty()) j[b.name]["encoder"] = b.encoder;
  }
  nlohmann::json sk = nlohmann::json::object();
  for (const auto& [name, why] : skipped) sk[name] = why;
  j["skipped"] = sk;
  return j;
}

std::string utility_markdown(const std::vector<UtilitySummary>& blocks,
                             const std::vector<std::pair<std::string, std::string>>& skipped,
                             double confidence, const std::string& title) {
  std::ostringstream os;
  os << "\n## " << title << "\n";
  for (const UtilitySummary& s : blocks) {
    const UtilityBlock& b = *s.block;
    os << "\n### " << b.name << " (" << b.values[0].size() << " pairs)\n\n" << b.method << "\n\n";
    os << "| metric |";
    for (const auto& c : b.conditions) os << " " << c << " |";
    for (const auto& t : b.tests)
      os << " p(" << b.conditions[t.b] << " > " << b.conditions[t.a] << ") |";
    os << "\n| --- |";
    for (size_t c = 0; c < b.conditions.size() + b.tests.size(); ++c) os << " ---: |";
    os << "\n";
    for (size_t m = 0; m < b.metrics.size(); ++m) {
      const int d = b.metrics[m].decimals;
      os << "| " << b.metrics[m].label << (b.encoder.empty() ? "" : " (" + b.encoder + ")") << " |";
      for (size_t c = 0; c < b.conditions.size(); ++c) {
        const UtilityFigure& f = s.figures[c][m];
        os << " " << fmt(f.value, d) << " [" << fmt(f.ci.lower, d) << ", " << fmt(f.ci.upper, d)
           << "] |";
      }
      for (size_t t = 0; t < b.tests.size(); ++t) {
        const double p = s.tested[t][m].p_value;
        os << " " << fmt(p, 3) << (p < 0.05 ? " *" : "") << " |";
      }
      os << "\n";
    }
  }
  os << "\nIntervals: " << fmt(confidence * 100, 0)
     << "% bootstrap percentile; p: paired bootstrap, share of replicates where the left "
        "condition does not beat the right one (`*`: p < 0.05).\n";
  for (const auto& [name, why] : skipped) os << "- " << name << ": not computed (" << why << ")\n";
  return os.str();
}

std::vector<UtilityMetric> identification_metrics() {
  return {{"hr1", "HR@1", true, false, 4},
          {"hr5", "HR@5", true, false, 4},
          {"hr10", "HR@10", true, false, 4},
          {"mrr", "MRR", true, false, 4}};
}

std::vector<UtilityMetric> rating_metrics() {
  return {{"rmse", "RMSE", false, true, 4},
          {"mae", "MAE", false, false, 4},
          {"like_accuracy", "like/dislike accuracy (rating >= 4)", true, false, 4}};
}

}  // namespace seller::eval
