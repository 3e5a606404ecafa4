// Implementation of the deterministic parallel corpus metrics (see parallel.h). Work is cut into
// blocks of kBlock pairs so that tokens live only while their block is counted: a million pairs
// never hold a million token lists at once.
#include "eval/utility/parallel.h"

#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

constexpr size_t kBlock = 4096;

void check_aligned(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                   const char* what) {
  SELLER_THROW_IF_NOT(hyps.size() == refs.size(), DataError, what, ": ", hyps.size(),
                      " hypotheses but ", refs.size(), " references (aligned by index)");
  SELLER_THROW_IF_NOT(!hyps.empty(), DataError, what, ": empty corpus");
}

void add_counts(BleuCounts& into, const BleuCounts& c) {
  if (into.matches.empty()) {
    into.matches.assign(c.matches.size(), 0);
    into.totals.assign(c.totals.size(), 0);
  }
  for (size_t k = 0; k < c.matches.size(); ++k) {
    into.matches[k] += c.matches[k];
    into.totals[k] += c.totals[k];
  }
  into.hyp_length += c.hyp_length;
  into.ref_length += c.ref_length;
}

// Corpus n-gram counts: integer sums, so any split over threads gives the same totals.
BleuCounts parallel_counts(const std::vector<std::string>& hyps,
                           const std::vector<std::string>& refs, Tokenizer tokenizer, int max_order,
                           size_t threads) {
  const size_t blocks = (hyps.size() + kBlock - 1) / kBlock;
  std::vector<BleuCounts> per_block(blocks);
  parallel_chunks(blocks, threads, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t lo = b * kBlock, hi = std::min(hyps.size(), lo + kBlock);
      TokenizedCorpus h, r;
      h.reserve(hi - lo);
      r.reserve(hi - lo);
      for (size_t i = lo; i < hi; ++i) {
        h.push_back(tokenize(hyps[i], tokenizer));
        r.push_back(tokenize(refs[i], tokenizer));
      }
      for (const BleuCounts& c : bleu_pair_counts(h, r, max_order)) add_counts(per_block[b], c);
    }
  });
  BleuCounts total;
  for (const BleuCounts& c : per_block) add_counts(total, c);
  return total;
}

}  // namespace

size_t resolve_threads(size_t threads) {
  if (threads > 0) return threads;
  return std::max<size_t>(1, std::thread::hardware_concurrency());
}

void parallel_chunks(size_t n, size_t threads, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  const size_t workers = std::min(resolve_threads(threads), n);
  if (workers == 1) {
    fn(0, n);
    return;
  }
  std::exception_ptr first;
  std::mutex mutex;
  std::vector<std::thread> pool;
  pool.reserve(workers);
  for (size_t w = 0; w < workers; ++w) {
    const size_t lo = n * w / workers, hi = n * (w + 1) / workers;
    pool.emplace_back([&, lo, hi] {
      try {
        fn(lo, hi);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first) first = std::current_exception();
      }
    });
  }
  for (auto& t : pool) t.join();
  if (first) std::rethrow_exception(first);
}

BleuResult sacrebleu_bleu_parallel(const std::vector<std::string>& hyps,
                                   const std::vector<std::string>& refs,
                                   const SacreBleuOptions& options, size_t threads) {
  check_aligned(hyps, refs, "sacrebleu_bleu");
  return sacrebleu_bleu_from_counts(
      parallel_counts(hyps, refs, Tokenizer::kSacre13a, options.max_ngram_order, threads), options);
}

BleuResult peter_bleu_parallel(const std::vector<std::string>& hyps,
                               const std::vector<std::string>& refs, int max_order,
                               size_t threads) {
  check_aligned(hyps, refs, "peter_bleu");
  const BleuCounts c = parallel_counts(hyps, refs, Tokenizer::kPeter, max_order, threads);
  SELLER_THROW_IF_NOT(c.ref_length > 0, DataError, "peter_bleu: every reference is empty");
  return peter_bleu_from_counts(c, max_order);
}

RougeScores rouge_corpus_parallel(const std::vector<std::string>& hyps,
                                  const std::vector<std::string>& refs, RougeVariant variant,
                                  size_t threads) {
  check_aligned(hyps, refs, "rouge");
  std::vector<RougeScores> per_pair(hyps.size());
  parallel_chunks(hyps.size(), threads, [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i) per_pair[i] = rouge_pair(hyps[i], refs[i], variant);
  });
  // rouge_corpus_tokens' order: one running sum per field from pair 0, then one division.
  RougeScores sum;
  for (const RougeScores& s : per_pair)
    for (auto [into, from] : {std::pair{&sum.rouge1, &s.rouge1}, std::pair{&sum.rouge2, &s.rouge2},
                              std::pair{&sum.rougeL, &s.rougeL}}) {
      into->precision += from->precision;
      into->recall += from->recall;
      into->f += from->f;
    }
  const double n = static_cast<double>(hyps.size());
  for (PrfScore* p : {&sum.rouge1, &sum.rouge2, &sum.rougeL}) {
    p->precision /= n;
    p->recall /= n;
    p->f /= n;
  }
  return sum;
}

}  // namespace seller::eval
