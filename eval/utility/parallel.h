// Deterministic data parallelism for corpus metrics: pairs are split into contiguous chunks, each
// worker writes only its own per-pair outputs, and every reduction runs afterwards on one thread
// in pair order. Invariant: results are bit-identical for every thread count (integer sums are
// associative; floating-point sums are never split across threads).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "eval/text/bleu.h"
#include "eval/text/rouge.h"

namespace seller::eval {

// Number of workers for `threads`: 0 means std::thread::hardware_concurrency() (at least 1).
size_t resolve_threads(size_t threads);

// Calls fn(begin, end) on contiguous chunks covering [0, n), on up to `threads` threads (0 = all
// cores). The first exception thrown by any chunk is rethrown after all workers have joined.
void parallel_chunks(size_t n, size_t threads, const std::function<void(size_t, size_t)>& fn);

// sacrebleu_bleu (13a, given options) over raw texts, tokenised and counted in parallel; the
// per-pair n-gram counts are summed in pair order, so the result equals sacrebleu_bleu exactly.
BleuResult sacrebleu_bleu_parallel(const std::vector<std::string>& hyps,
                                   const std::vector<std::string>& refs,
                                   const SacreBleuOptions& options, size_t threads);

// peter_bleu-n over raw texts (PETER tokens), equal to peter_bleu on tokenize_corpus(kPeter).
BleuResult peter_bleu_parallel(const std::vector<std::string>& hyps,
                               const std::vector<std::string>& refs, int max_order, size_t threads);

// rouge_corpus over raw texts: per-pair scores in parallel, then summed in pair order exactly as
// rouge_corpus_tokens does, so the mean equals rouge_corpus bit for bit.
RougeScores rouge_corpus_parallel(const std::vector<std::string>& hyps,
                                  const std::vector<std::string>& refs, RougeVariant variant,
                                  size_t threads);

}  // namespace seller::eval
