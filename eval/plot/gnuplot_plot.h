// PNG plots through gnuplot (Debian package gnuplot-nox, installed by scripts/setup.sh): metric
// bars with confidence-interval error bars per system or condition, and training curves from a
// training log (metrics.jsonl). Invariants:
//   - the tool is $SELLER_GNUPLOT, else `gnuplot` on PATH; when it cannot be run, plotting throws
//     seller::Error saying so and how to install it (callers that plot only opportunistically
//     check gnuplot_available() first), never a crash or a silent empty file;
//   - each PNG is rendered to a temporary name, checked (signature, IHDR) and renamed into place,
//     so an interrupted or failed run never leaves a broken plot under the final name;
//   - labels are passed in gnuplot's noenhanced mode, so '_' and '^' in metric keys print as is.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seller::eval {

// The command that runs gnuplot ($SELLER_GNUPLOT or "gnuplot").
std::string gnuplot_command();
// True when `gnuplot_command() --version` runs; otherwise *why says what failed.
bool gnuplot_available(std::string* why = nullptr);

struct BarSeries {
  std::string name;                  // a system or condition: the legend entry
  std::vector<double> value;         // one per category
  std::vector<double> lower, upper;  // interval per category (equal to value: no interval)
};

struct BarChart {
  std::string title, ylabel;
  std::vector<std::string> categories;  // metric labels on the x axis
  std::vector<BarSeries> series;
};

// Throws ConfigError on inconsistent sizes, Error when gnuplot is missing or fails.
void plot_bars(const BarChart& chart, const std::filesystem::path& png);

// Reads a training log (one JSON object per line; blank lines skipped) and writes one PNG per
// numeric field, `curve_<field>.png` in out_dir, against "step" when some line has it, else
// "epoch", else the line's ordinal. Returns the files written. Throws DataError (file:line) on a
// line that is not a JSON object, or when no field besides the x axis is numeric.
std::vector<std::filesystem::path> plot_training_curves(const std::filesystem::path& log,
                                                        const std::filesystem::path& out_dir);

}  // namespace seller::eval
