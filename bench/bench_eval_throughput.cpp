// Metric throughput on synthetic prediction/reference pairs (default 1,000,000), generated
// deterministically from a word list: sacreBLEU-4 (13a) and ROUGE-1/2/L (rouge_score), one
// thread and all cores (eval/utility/parallel.h; the values must be identical, and the bench
// fails if not), beside the Python packages on the first --peer-pairs pairs (their per-pair rate
// extrapolated when the subset is smaller), with the values checked equal (1e-9 relative).
// Prints the machine and never fails on time.
//
//   bench_eval_throughput [--pairs N] [--peer-pairs K] [--python PY --peer SCRIPT]
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_machine.h"
#include "eval/stats/bootstrap.h"
#include "eval/text/bleu.h"
#include "eval/text/rouge.h"
#include "eval/text/tokenize.h"
#include "eval/utility/parallel.h"

namespace {

using namespace seller::eval;

// Review-like sentences: a reference from a 600-word vocabulary with punctuation, and a
// hypothesis that keeps, drops or replaces each reference word, so every n-gram order matches.
void generate(size_t n, std::vector<std::string>& hyps, std::vector<std::string>& refs) {
  static const char* stems[] = {"battery", "screen", "sound",   "price",  "quality",
                                "fit",     "size",   "color",   "fabric", "zipper",
                                "strap",   "case",   "charger", "cable",  "lid",
                                "handle",  "blade",  "motor",   "scent",  "texture"};
  static const char* glue[] = {"the",  "is",     "and", "it",   "was",   "very", "not",
                               "for",  "with",   "a",   "this", "great", "good", "bad",
                               "too",  "really", "but", "so",   "works", "love", "don't",
                               "it's", "(",      ")",   ",",    ".",     "!",    "$5"};
  std::vector<std::string> vocab;
  for (const char* g : glue) vocab.emplace_back(g);
  for (int i = 0; vocab.size() < 600; ++i)
    vocab.push_back(std::string(stems[i % 20]) + (i < 20 ? "" : std::to_string(i / 20)));
  SplitMix64 rng(20240601);
  hyps.resize(n);
  refs.resize(n);
  std::vector<size_t> words;
  for (size_t i = 0; i < n; ++i) {
    words.clear();
    for (uint64_t k = 6 + rng.below(25); k > 0; --k)
      words.push_back(rng.below(3) == 0 ? rng.below(28) : rng.below(vocab.size()));
    std::string& r = refs[i];
    std::string& h = hyps[i];
    for (size_t w : words) {
      r += vocab[w] + " ";
      const uint64_t fate = rng.below(10);
      if (fate < 7)
        h += vocab[w] + " ";  // kept
      else if (fate < 9)
        h += vocab[rng.below(vocab.size())] + " ";  // replaced
    }
    if (h.empty()) h = "ok";
  }
}

double seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool close(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

}  // namespace

int main(int argc, char** argv) {
  size_t pairs = 1000000, peer_pairs = 100000;
  std::string python, peer;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--pairs"))
      pairs = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--peer-pairs"))
      peer_pairs = std::stoul(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--python"))
      python = argv[i + 1];
    else if (!std::strcmp(argv[i], "--peer"))
      peer = argv[i + 1];
  }
  peer_pairs = std::min(peer_pairs, pairs);
  std::vector<std::string> hyps, refs;
  const double gen = seconds([&] { generate(pairs, hyps, refs); });
  const size_t cores = resolve_threads(0);
  // Other jobs share the machine: the 1-minute load average says how loaded it was.
  double load[1] = {-1};
  getloadavg(load, 1);
  std::printf(
      "bench_eval_throughput: %zu synthetic pairs (generated in %.1f s); %s, %zu hardware "
      "threads, load average %.2f at start\n\n",
      pairs, gen, seller::bench::cpu_model().c_str(), cores, load[0]);

  BleuResult b1, bn;
  RougeScores r1, rn;
  const double tb1 = seconds([&] { b1 = sacrebleu_bleu_parallel(hyps, refs, {}, 1); });
  const double tbn = seconds([&] { bn = sacrebleu_bleu_parallel(hyps, refs, {}, 0); });
  const double tr1 =
      seconds([&] { r1 = rouge_corpus_parallel(hyps, refs, RougeVariant::kRougeScore, 1); });
  const double trn =
      seconds([&] { rn = rouge_corpus_parallel(hyps, refs, RougeVariant::kRougeScore, 0); });
  // The 13a tokenizer alone (both sides, one thread): the share of sacreBLEU's time it takes.
  size_t tokens_13a = 0;
  const double tt1 = seconds([&] {
    for (size_t i = 0; i < pairs; ++i)
      tokens_13a += tokenize_13a(hyps[i]).size() + tokenize_13a(refs[i]).size();
  });
  const bool same = b1.bleu == bn.bleu && r1.rouge1.f == rn.rouge1.f &&
                    r1.rouge2.f == rn.rouge2.f && r1.rougeL.f == rn.rougeL.f;
  std::printf(
      "| metric (seller, C++) | 1 thread: s | pairs/s | %zu threads: s | pairs/s |\n"
      "| --- | ---: | ---: | ---: | ---: |\n",
      cores);
  std::printf("| sacreBLEU-4 corpus (13a) | %.2f | %.0f | %.2f | %.0f |\n", tb1, pairs / tb1, tbn,
              pairs / tbn);
  std::printf("| ROUGE-1/2/L rouge_score | %.2f | %.0f | %.2f | %.0f |\n", tr1, pairs / tr1, trn,
              pairs / trn);
  std::printf("| 13a tokenisation only (both sides) | %.2f | %.0f | | |\n", tt1, pairs / tt1);
  std::printf(
      "\nvalues (%zu pairs): BLEU-4 %.6f, ROUGE-1 F %.6f, ROUGE-2 F %.6f, ROUGE-L F %.6f; "
      "1 thread vs all cores identical: %s\n",
      pairs, b1.bleu, r1.rouge1.f, r1.rouge2.f, r1.rougeL.f, same ? "yes" : "NO");
  std::printf("13a tokens (both sides): %zu\n", tokens_13a);
  if (!same) return 1;
  if (python.empty() || peer.empty()) return 0;

  // Python peers on the first peer_pairs pairs; C++ on the same subset for the value check.
  const std::string file = "/tmp/bench_eval_throughput_" + std::to_string(getpid()) + ".jsonl";
  {
    std::ofstream out(file);
    for (size_t i = 0; i < peer_pairs; ++i)
      out << nlohmann::json{{"h", hyps[i]}, {"r", refs[i]}}.dump() << "\n";
  }
  hyps.resize(peer_pairs);
  refs.resize(peer_pairs);
  const BleuResult bs = sacrebleu_bleu_parallel(hyps, refs, {}, 1);
  const RougeScores rs = rouge_corpus_parallel(hyps, refs, RougeVariant::kRougeScore, 1);
  FILE* pipe = popen((python + " " + peer + " " + file).c_str(), "r");
  std::string text;
  char buf[4096];
  for (size_t n; pipe && (n = fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  const int rc = pipe ? pclose(pipe) : -1;
  std::remove(file.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "peer failed (%d): %s\n", rc, text.c_str());
    return 1;
  }
  const auto j = nlohmann::json::parse(text);
  const double ps = j["sacrebleu_seconds"], pr = j["rouge_seconds"];
  const auto& pj = j["rouge"];
  bool equal = close(bs.bleu, j["sacrebleu_bleu4"].get<double>());
  const PrfScore* ours[] = {&rs.rouge1, &rs.rouge2, &rs.rougeL};
  const char* keys[] = {"rouge1", "rouge2", "rougeL"};
  for (int k = 0; k < 3; ++k)
    equal = equal && close(ours[k]->precision, pj[keys[k]][0].get<double>()) &&
            close(ours[k]->recall, pj[keys[k]][1].get<double>()) &&
            close(ours[k]->f, pj[keys[k]][2].get<double>());
  const double sp = peer_pairs / ps, rp = peer_pairs / pr;
  std::printf(
      "\nPython peers on the first %zu pairs (one process, one thread):\n"
      "| peer | s | pairs/s | seller 1 thread / peer | seller %zu threads / peer |\n"
      "| --- | ---: | ---: | ---: | ---: |\n",
      peer_pairs, cores);
  std::printf("| sacrebleu %s corpus_bleu | %.2f | %.0f | %.1fx | %.1fx |\n", "2.6.0", ps, sp,
              (pairs / tb1) / sp, (pairs / tbn) / sp);
  std::printf("| rouge-score 0.1.2 (rouge1/2/L) | %.2f | %.0f | %.1fx | %.1fx |\n", pr, rp,
              (pairs / tr1) / rp, (pairs / trn) / rp);
  std::printf(
      "\nsubset values: sacreBLEU-4 seller %.9f vs python %.9f; ROUGE-L F seller %.9f vs "
      "python %.9f; all 10 values equal to 1e-9 relative: %s\n",
      bs.bleu, j["sacrebleu_bleu4"].get<double>(), rs.rougeL.f, pj["rougeL"][2].get<double>(),
      equal ? "yes" : "NO");
  return equal ? 0 : 1;
}
