// Implementation of the gnuplot plots (see gnuplot_plot.h). Data and script go to a scratch
// folder beside the output, gnuplot renders to a temporary PNG name, and the file is renamed
// into place only after its header checks out.
#include "eval/plot/gnuplot_plot.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <sys/wait.h>

#include <cctype>

#include "eval/plot/png_info.h"
#include "trainer/core/error.h"
#include "trainer/io/line_reader.h"

namespace seller::eval {
namespace fs = std::filesystem;
namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// A gnuplot double-quoted string literal.
std::string gp_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += (c == '\n' || c == '\t') ? ' ' : c;
  }
  return out + "\"";
}

struct CommandOutput {
  int status = -1;
  std::string output;
};

CommandOutput run(const std::string& command) {
  CommandOutput r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const char* kInstallHint =
    "install gnuplot (Debian: apt-get install gnuplot-nox, which scripts/setup.sh does) or set "
    "SELLER_GNUPLOT to its path";

// Renders `script` (which must `set output` to the given tmp name) and moves the PNG in place.
void render(const std::string& script_body, const fs::path& png, const fs::path& scratch) {
  std::string why;
  SELLER_THROW_IF_NOT(gnuplot_available(&why), Error, "cannot plot ", png.string(), ": ", why, "; ",
                      kInstallHint);
  const fs::path tmp = png.parent_path() / (".tmp-" + png.filename().string());
  const fs::path script = scratch / (png.stem().string() + ".gp");
  {
    std::ofstream out(script);
    out << "set terminal pngcairo size 1000,600 noenhanced font \"sans,10\"\n"
        << "set output " << gp_string(tmp.string()) << "\n"
        << script_body;
    SELLER_THROW_IF_NOT(out.good(), Error, "cannot write ", script.string());
  }
  const CommandOutput r = run(gnuplot_command() + " " + shell_quote(script.string()));
  std::string bad;
  if (r.status != 0 || !read_png_info(tmp, &bad)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("gnuplot failed on " + script.string() + " (exit " + std::to_string(r.status) +
                (bad.empty() ? "" : "; " + bad) + "): " + r.output);
  }
  fs::rename(tmp, png);
}

struct Scratch {
  explicit Scratch(const fs::path& dir) : path(dir / ".plot-scratch") {
    fs::create_directories(path);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path path;
};

std::string file_safe(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out.empty() ? "field" : out;
}

}  // namespace

std::string gnuplot_command() {
  const char* env = std::getenv("SELLER_GNUPLOT");
  return env && *env ? shell_quote(env) : "gnuplot";
}

bool gnuplot_available(std::string* why) {
  const CommandOutput r = run(gnuplot_command() + " --version");
  if (r.status == 0 && r.output.find("gnuplot") != std::string::npos) return true;
  if (why) *why = "`" + gnuplot_command() + " --version` failed (" + r.output + ")";
  return false;
}

void plot_bars(const BarChart& chart, const fs::path& png) {
  SELLER_THROW_IF_NOT(!chart.categories.empty() && !chart.series.empty(), ConfigError, "plot ",
                      png.string(), ": nothing to plot");
  for (const auto& s : chart.series)
    SELLER_THROW_IF_NOT(s.value.size() == chart.categories.size() &&
                            s.lower.size() == s.value.size() && s.upper.size() == s.value.size(),
                        ConfigError, "plot ", png.string(), ": series ", s.name, " has ",
                        s.value.size(), " values for ", chart.categories.size(), " categories");
  fs::create_directories(png.parent_path().empty() ? fs::path(".") : png.parent_path());
  Scratch scratch(png.parent_path().empty() ? fs::path(".") : png.parent_path());
  const fs::path data = scratch.path / (png.stem().string() + ".tsv");
  bool non_negative = true;
  {
    std::ofstream out(data);
    out.precision(10);
    for (size_t c = 0; c < chart.categories.size(); ++c) {
      std::string label = chart.categories[c];
      for (char& ch : label)
        if (ch == '\t' || ch == '\n') ch = ' ';
      out << label;
      for (const auto& s : chart.series) {
        out << '\t' << s.value[c] << '\t' << s.lower[c] << '\t' << s.upper[c];
        non_negative = non_negative && s.lower[c] >= 0;
      }
      out << '\n';
    }
  }
  std::ostringstream gp;
  gp << "set datafile separator \"\\t\"\nset title " << gp_string(chart.title) << "\nset ylabel "
     << gp_string(chart.ylabel)
     << "\nset style data histogram\nset style histogram errorbars gap 1 lw 1\n"
     << "set style fill solid 0.7 border -1\nset boxwidth 0.9\nset grid ytics\n"
     << "set key outside top center horizontal\nset xtics rotate by -25\n"
     << "set bmargin 8\n"
     << (non_negative ? "set yrange [0:*]\n" : "") << "plot ";
  for (size_t s = 0; s < chart.series.size(); ++s) {
    const size_t col = 2 + 3 * s;
    gp << (s ? ", '' " : gp_string(data.string()) + " ") << "using " << col << ":" << col + 1 << ":"
       << col + 2 << (s ? "" : ":xtic(1)") << " title " << gp_string(chart.series[s].name);
  }
  gp << "\n";
  render(gp.str(), png, scratch.path);
}

std::vector<fs::path> plot_training_curves(const fs::path& log, const fs::path& out_dir) {
  io::LineReader reader(log);
  std::vector<std::map<std::string, double>> points;
  std::string_view line;
  while (reader.next(line)) {
    if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) continue;
    const std::string where = log.string() + ":" + std::to_string(reader.line_number());
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw DataError(where + ": not valid JSON (" + e.what() + ")");
    }
    SELLER_THROW_IF_NOT(obj.is_object(), DataError, where, ": not a JSON object");
    std::map<std::string, double> p;
    for (const auto& [k, v] : obj.items())
      if (v.is_number()) p[k] = v.get<double>();
    points.push_back(std::move(p));
  }
  SELLER_THROW_IF_NOT(!points.empty(), DataError, log.string(), ": no training log line");
  std::string x = "record";
  for (const char* candidate : {"step", "epoch"}) {
    bool any = false;
    for (const auto& p : points) any = any || p.contains(candidate);
    if (any) {
      x = candidate;
      break;
    }
  }
  std::map<std::string, std::vector<std::pair<double, double>>> series;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    const auto xi = x == "record" ? std::optional<double>(static_cast<double>(i + 1))
                                  : (p.contains(x) ? std::optional<double>(p.at(x)) : std::nullopt);
    if (!xi) continue;
    for (const auto& [k, v] : p)
      if (k != x) series[k].emplace_back(*xi, v);
  }
  SELLER_THROW_IF_NOT(!series.empty(), DataError, log.string(),
                      ": no numeric field to plot besides ", x);
  fs::create_directories(out_dir);
  Scratch scratch(out_dir);
  std::vector<fs::path> written;
  for (const auto& [field, xy] : series) {
    const fs::path png = out_dir / ("curve_" + file_safe(field) + ".png");
    const fs::path data = scratch.path / ("curve_" + file_safe(field) + ".tsv");
    {
      std::ofstream out(data);
      out.precision(12);
      for (const auto& [a, b] : xy) out << a << '\t' << b << '\n';
    }
    std::ostringstream gp;
    gp << "set datafile separator \"\\t\"\nset title "
       << gp_string(field + " (" + log.string() + ")") << "\nset xlabel " << gp_string(x)
       << "\nset ylabel " << gp_string(field) << "\nset grid\nset key off\nplot "
       << gp_string(data.string()) << " using 1:2 with linespoints pt 7 ps 0.5\n";
    render(gp.str(), png, scratch.path);
    written.push_back(png);
  }
  return written;
}

}  // namespace seller::eval
