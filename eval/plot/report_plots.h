// The PNG plots of `seller eval`: which metrics go into which bar chart, built from the report
// structures (eval/report, eval/utility) and drawn with gnuplot_plot.h. Invariants: a bar is a
// reported value and its error bar the reported interval (none drawn where the report has none),
// so a plot never shows a number that metrics.json does not hold; charts group metrics of one
// scale (BLEU 0-100 and ROUGE x100 together; rates 0-1; rating errors in stars).
#pragma once

#include <filesystem>
#include <vector>

#include "eval/plot/gnuplot_plot.h"
#include "eval/report/eval_report.h"
#include "eval/utility/utility_report.h"

namespace seller::eval {

// BLEU-1..4 (PETER), BLEU-4 (sacreBLEU), ROUGE-1/2/L F (both variants) x100 of one system.
BarChart text_bar_chart(const SystemReport& report, const std::string& system_name);
// The same metrics for systems A and B of a comparison.
BarChart text_bar_chart(const std::vector<ComparisonRow>& rows, const std::string& a_name,
                        const std::string& b_name);
// One series per condition; metrics of the block that share a scale (all for identification;
// RMSE and MAE for rating, like/dislike accuracy in its own chart).
std::vector<std::pair<std::string, BarChart>> utility_bar_charts(const UtilitySummary& summary);

// Writes bars_*.png for the text metrics and every utility block into dir; returns the files.
std::vector<std::filesystem::path> write_report_plots(
    const std::filesystem::path& dir, const std::vector<std::pair<std::string, BarChart>>& charts);

}  // namespace seller::eval
