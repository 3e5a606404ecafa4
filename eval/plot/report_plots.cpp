// Implementation of the eval report's plots (see report_plots.h).
#include "eval/plot/report_plots.h"

#include <set>

namespace seller::eval {
namespace {

const std::vector<std::string>& text_keys() {
  static const std::vector<std::string> keys = {
      "bleu1_peter",          "bleu2_peter",          "bleu3_peter",         "bleu4_peter",
      "bleu4_sacrebleu",      "rouge1_f_peter",       "rouge2_f_peter",      "rougeL_f_peter",
      "rouge1_f_rouge_score", "rouge2_f_rouge_score", "rougeL_f_rouge_score"};
  return keys;
}

void add_point(BarSeries& s, const MetricRow& r) {
  const double k = r.display_scale;
  s.value.push_back(r.value * k);
  s.lower.push_back(r.ci ? r.ci->lower * k : r.value * k);
  s.upper.push_back(r.ci ? r.ci->upper * k : r.value * k);
}

}  // namespace

BarChart text_bar_chart(const SystemReport& report, const std::string& system_name) {
  BarChart c;
  c.title = "text quality (95% bootstrap CI)";
  c.ylabel = "BLEU / ROUGE F x100";
  BarSeries s;
  s.name = system_name;
  for (const auto& key : text_keys())
    for (const auto& r : report.rows)
      if (r.key == key) {
        c.categories.push_back(r.label);
        add_point(s, r);
      }
  c.series.push_back(std::move(s));
  return c;
}

BarChart text_bar_chart(const std::vector<ComparisonRow>& rows, const std::string& a_name,
                        const std::string& b_name) {
  BarChart c;
  c.title = "text quality, A vs B (95% paired bootstrap CI)";
  c.ylabel = "BLEU / ROUGE F x100";
  BarSeries a, b;
  a.name = a_name;
  b.name = b_name;
  for (const auto& key : text_keys())
    for (const auto& r : rows)
      if (r.a.key == key) {
        c.categories.push_back(r.a.label);
        add_point(a, r.a);
        add_point(b, r.b);
      }
  c.series = {std::move(a), std::move(b)};
  return c;
}

std::vector<std::pair<std::string, BarChart>> utility_bar_charts(const UtilitySummary& summary) {
  const UtilityBlock& b = *summary.block;
  // Rating errors (stars) and accuracy (0-1) do not share an axis.
  std::vector<std::pair<std::string, std::set<std::string>>> groups;
  if (b.name == "rating") {
    groups = {{"rating_error", {"rmse", "mae"}}, {"rating_like", {"like_accuracy"}}};
  } else {
    std::set<std::string> all;
    for (const auto& m : b.metrics) all.insert(m.key);
    groups = {{b.name, all}};
  }
  std::vector<std::pair<std::string, BarChart>> out;
  for (const auto& [file, keys] : groups) {
    BarChart c;
    c.title = b.name + " (" + std::to_string(b.values[0].size()) + " pairs, 95% bootstrap CI)";
    c.ylabel = file == "rating_error" ? "stars (lower is better)" : "rate";
    for (size_t m = 0; m < b.metrics.size(); ++m)
      if (keys.contains(b.metrics[m].key)) c.categories.push_back(b.metrics[m].label);
    for (size_t cond = 0; cond < b.conditions.size(); ++cond) {
      BarSeries s;
      s.name = b.conditions[cond];
      for (size_t m = 0; m < b.metrics.size(); ++m) {
        if (!keys.contains(b.metrics[m].key)) continue;
        const UtilityFigure& f = summary.figures[cond][m];
        s.value.push_back(f.value);
        s.lower.push_back(f.ci.lower);
        s.upper.push_back(f.ci.upper);
      }
      c.series.push_back(std::move(s));
    }
    out.emplace_back(file, std::move(c));
  }
  return out;
}

std::vector<std::filesystem::path> write_report_plots(
    const std::filesystem::path& dir, const std::vector<std::pair<std::string, BarChart>>& charts) {
  std::vector<std::filesystem::path> written;
  for (const auto& [name, chart] : charts) {
    if (chart.categories.empty()) continue;
    const auto png = dir / ("bars_" + name + ".png");
    plot_bars(chart, png);
    written.push_back(png);
  }
  return written;
}

}  // namespace seller::eval
