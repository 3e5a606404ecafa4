// Scores released explanation outputs with every text metric of seller::eval and prints a
// Markdown table (the one in docs/eval.md), then each metric's throughput in pairs/s on the same
// input with the machine it ran on. Never fails on time.
//
//   bench_text_metrics [--repeat N] DIR...   (each DIR holds tst_pred.json and tst_ref.json,
//                                             JSON lists of strings aligned by index)
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "eval/text/bleu.h"
#include "eval/text/diversity.h"
#include "eval/text/rouge.h"
#include "eval/text/text_report.h"
#include "eval/text/tokenize.h"

#include "bench/bench_machine.h"

namespace {

using seller::bench::cpu_model;

using namespace seller::eval;

std::vector<std::string> read_strings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(in).get<std::vector<std::string>>();
}

struct Dataset {
  std::string name;
  std::vector<std::string> hyps, refs;
  TextQualityReport report;
};

void print_table(const std::vector<Dataset>& sets) {
  std::printf("| metric |");
  for (const auto& d : sets) std::printf(" %s |", d.name.c_str());
  std::printf("\n| --- |");
  for (size_t i = 0; i < sets.size(); ++i) std::printf(" ---: |");
  std::printf("\n");
  const auto row = [&](const char* name, const std::function<double(const TextQualityReport&)>& f,
                       const char* fmt = "%.2f") {
    std::printf("| %s |", name);
    for (const auto& d : sets) {
      std::printf(" ");
      std::printf(fmt, f(d.report));
      std::printf(" |");
    }
    std::printf("\n");
  };
  for (int n = 0; n < 4; ++n) {
    const std::string a = "BLEU-" + std::to_string(n + 1) + " (PETER tokens, TF-NMT compute_bleu)";
    row(a.c_str(),
        [n](const TextQualityReport& r) { return r.bleu_peter[static_cast<size_t>(n)]; });
  }
  for (int n = 0; n < 4; ++n) {
    const std::string a = "BLEU-" + std::to_string(n + 1) + " (sacreBLEU 13a, exp smoothing)";
    row(a.c_str(),
        [n](const TextQualityReport& r) { return r.bleu_sacrebleu[static_cast<size_t>(n)]; });
  }
  struct Part {
    const char* name;
    PrfScore RougeScores::*score;
  };
  const Part parts[] = {{"ROUGE-1", &RougeScores::rouge1},
                        {"ROUGE-2", &RougeScores::rouge2},
                        {"ROUGE-L", &RougeScores::rougeL}};
  for (const char* variant : {"peter", "rouge_score"}) {
    const bool peter = std::strcmp(variant, "peter") == 0;
    for (const auto& part : parts) {
      for (const char* stat : {"P", "R", "F"}) {
        const std::string name = std::string(part.name) + " " + stat + " (" + variant + ")";
        row(name.c_str(), [&](const TextQualityReport& r) {
          const PrfScore& s = (peter ? r.rouge_peter : r.rouge_score).*(part.score);
          return 100 * (stat[0] == 'P' ? s.precision : stat[0] == 'R' ? s.recall : s.f);
        });
      }
    }
  }
  row(
      "USR", [](const TextQualityReport& r) { return r.usr.ratio; }, "%.4f");
  row(
      "USN", [](const TextQualityReport& r) { return static_cast<double>(r.usr.unique_count); },
      "%.0f");
  row(
      "distinct-1", [](const TextQualityReport& r) { return r.distinct1; }, "%.4f");
  row(
      "distinct-2", [](const TextQualityReport& r) { return r.distinct2; }, "%.4f");
  row("pred tokens, mean", [](const TextQualityReport& r) { return r.hyp_length.mean; });
  row(
      "pred tokens, median", [](const TextQualityReport& r) { return r.hyp_length.median; },
      "%.1f");
  row("ref tokens, mean", [](const TextQualityReport& r) { return r.ref_length.mean; });
  row(
      "ref tokens, median", [](const TextQualityReport& r) { return r.ref_length.median; }, "%.1f");
}

double seconds_per_run(int repeat, const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < repeat; ++i) f();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count() / repeat;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 5;
  std::vector<Dataset> sets;
  try {
    for (int i = 1; i < argc; ++i) {
      if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
        repeat = std::max(1, std::atoi(argv[++i]));
        continue;
      }
      std::string dir = argv[i];
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
      Dataset d;
      d.name = dir.substr(dir.find_last_of('/') + 1);
      d.hyps = read_strings(dir + "/tst_pred.json");
      d.refs = read_strings(dir + "/tst_ref.json");
      TextQualityInput in{d.hyps, d.refs, {}, {}};
      d.report = evaluate_text_quality(in);
      sets.push_back(std::move(d));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_text_metrics: %s\n", e.what());
    return 1;
  }
  if (sets.empty()) {
    std::fprintf(stderr, "usage: bench_text_metrics [--repeat N] DIR...\n");
    return 2;
  }
  print_table(sets);

  std::printf("\nthroughput (single thread, mean of %d runs; %s, %u hardware threads):\n", repeat,
              cpu_model().c_str(), std::thread::hardware_concurrency());
  std::printf("| dataset | metric | seconds | pairs/s |\n| --- | --- | ---: | ---: |\n");
  for (const auto& d : sets) {
    const double n = static_cast<double>(d.hyps.size());
    const auto report = [&](const char* what, const std::function<void()>& f) {
      const double s = seconds_per_run(repeat, f);
      std::printf("| %s | %s | %.4f | %.0f |\n", d.name.c_str(), what, s, n / s);
    };
    volatile double sink = 0;
    report("sacreBLEU-4 from raw text (13a included)",
           [&] { sink = sink + sacrebleu_bleu(d.hyps, d.refs).bleu; });
    report("PETER BLEU-4 from raw text (tokens included)", [&] {
      sink = sink + peter_bleu(tokenize_corpus(d.hyps, Tokenizer::kPeter),
                               tokenize_corpus(d.refs, Tokenizer::kPeter), 4)
                        .bleu;
    });
    report("ROUGE-1/2/L rouge_score from raw text",
           [&] { sink = sink + rouge_corpus(d.hyps, d.refs, RougeVariant::kRougeScore).rougeL.f; });
    report("ROUGE-1/2/L peter from raw text",
           [&] { sink = sink + rouge_corpus(d.hyps, d.refs, RougeVariant::kPeter).rougeL.f; });
    report("all metrics (evaluate_text_quality)", [&] {
      TextQualityInput in{d.hyps, d.refs, {}, {}};
      sink = sink + evaluate_text_quality(in).usr.ratio;
    });
  }
  return 0;
}
