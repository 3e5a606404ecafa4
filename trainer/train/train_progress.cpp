// Progress bookkeeping of the SELLER training loop (train_progress.h).
#include "trainer/train/train_progress.h"

#include <cstdio>
#include <vector>

namespace seller::train {

std::string format_seconds(double s) {
  char buf[32];
  const auto t = static_cast<int64_t>(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(t / 3600),
                  static_cast<long long>(t % 3600 / 60));
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  return buf;
}

nlohmann::json window_json(const Window& w) {
  return {{"total", w.total},
          {"expl", w.expl},
          {"item", w.item},
          {"rating", w.rating},
          {"moe", w.moe},
          {"micro", w.micro},
          {"tokens", w.tokens},
          {"examples", w.examples},
          {"moe_tokens", w.moe_stats.tokens_per_expert},
          {"moe_assignments", w.moe_stats.assignments},
          {"moe_dropped", w.moe_stats.dropped}};
}

Window window_from(const nlohmann::json& j) {
  Window w;
  if (j.empty()) return w;
  w.total = j.at("total");
  w.expl = j.at("expl");
  w.item = j.at("item");
  w.rating = j.at("rating");
  w.moe = j.at("moe");
  w.micro = j.at("micro");
  w.tokens = j.at("tokens");
  w.examples = j.at("examples");
  w.moe_stats.tokens_per_expert = j.at("moe_tokens").get<std::vector<int64_t>>();
  w.moe_stats.assignments = j.at("moe_assignments");
  w.moe_stats.dropped = j.at("moe_dropped");
  return w;
}

Window reduce_window(const Window& w, const TrainDist& dist, size_t experts) {
  if (!dist.enabled()) return w;
  Window out = w;
  // A rank whose window saw no rows (a stand-in step only) has no expert counts yet: every rank
  // must send vectors of the same length.
  std::vector<int64_t> per_expert = w.moe_stats.tokens_per_expert;
  per_expert.resize(experts, 0);
  std::vector<double> sums = {w.total, w.expl, w.item, w.rating, w.moe};
  dist.sum(sums);
  out.total = sums[0];
  out.expl = sums[1];
  out.item = sums[2];
  out.rating = sums[3];
  out.moe = sums[4];
  // Every rank has the same number of experts, so the vectors line up element by element.
  std::vector<int64_t> counts = {w.micro, w.tokens, w.examples, w.moe_stats.assignments,
                                 w.moe_stats.dropped};
  counts.insert(counts.end(), per_expert.begin(), per_expert.end());
  dist.sum(counts);
  out.micro = counts[0];
  out.tokens = counts[1];
  out.examples = counts[2];
  out.moe_stats.assignments = counts[3];
  out.moe_stats.dropped = counts[4];
  out.moe_stats.tokens_per_expert.assign(counts.begin() + 5, counts.end());
  return out;
}

void log_progress(JsonlLog* log, std::ostream* progress, const Window& win, int64_t step,
                  int64_t total_steps, int64_t epoch, double lr, double eta) {
  const double secs = since(win.start);
  const double k = static_cast<double>(win.micro);
  nlohmann::json j = {{"event", "train"},
                      {"step", step},
                      {"epoch", epoch},
                      {"loss", win.total / k},
                      {"explanation_loss", win.expl / k},
                      {"item_loss", win.item / k},
                      {"rating_loss", win.rating / k},
                      {"moe_loss", win.moe / k},
                      {"lr", lr},
                      {"tokens_per_s", win.tokens / secs},
                      {"examples_per_s", win.examples / secs},
                      {"eta_s", eta}};
  if (!win.moe_stats.tokens_per_expert.empty()) {
    j["expert_tokens"] = win.moe_stats.tokens_per_expert;
    j["expert_dropped"] = win.moe_stats.dropped;
    j["expert_assignments"] = win.moe_stats.assignments;
  }
  if (log) log->write(j);
  if (!progress) return;
  char line[320];
  std::snprintf(line, sizeof line,
                "step %lld/%lld epoch %lld  loss %.4f (expl %.4f item %.4f rating %.4f "
                "moe %.4f)  lr %.2e  %.0f tok/s %.1f ex/s  ETA %s\n",
                static_cast<long long>(step), static_cast<long long>(total_steps),
                static_cast<long long>(epoch), win.total / k, win.expl / k, win.item / k,
                win.rating / k, win.moe / k, lr, win.tokens / secs, win.examples / secs,
                format_seconds(eta).c_str());
  *progress << line << std::flush;
}

}  // namespace seller::train
