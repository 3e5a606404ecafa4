// Implementation of the n-gram bookkeeping (see ngram_overlap.h). Overlaps come from sorting
// each side's n-grams and walking both sorted lists once, run by run.
#include "eval/text/ngram_overlap.h"

#include <algorithm>
#include <bit>

namespace seller::eval {
namespace {

// Walks two sorted sequences of n-grams. cmp(i, j) compares hyp n-gram i with ref n-gram j
// (<0, 0, >0); same_h / same_r tell whether two neighbours on one side are equal.
template <class Cmp, class SameH, class SameR>
NgramOverlap merge_runs(size_t nh, size_t nr, Cmp cmp, SameH same_h, SameR same_r) {
  NgramOverlap o;
  o.hyp_count = static_cast<int64_t>(nh);
  o.ref_count = static_cast<int64_t>(nr);
  size_t i = 0, j = 0;
  const auto run_h = [&](size_t k) {
    size_t e = k + 1;
    while (e < nh && same_h(k, e)) ++e;
    return e;
  };
  const auto run_r = [&](size_t k) {
    size_t e = k + 1;
    while (e < nr && same_r(k, e)) ++e;
    return e;
  };
  while (i < nh && j < nr) {
    const int c = cmp(i, j);
    if (c < 0) {
      i = run_h(i), ++o.hyp_distinct;
    } else if (c > 0) {
      j = run_r(j), ++o.ref_distinct;
    } else {
      const size_t ei = run_h(i), ej = run_r(j);
      o.clipped_matches += static_cast<int64_t>(std::min(ei - i, ej - j));
      ++o.distinct_matches, ++o.hyp_distinct, ++o.ref_distinct;
      i = ei, j = ej;
    }
  }
  while (i < nh) i = run_h(i), ++o.hyp_distinct;
  while (j < nr) j = run_r(j), ++o.ref_distinct;
  return o;
}

void packed_keys(std::span<const uint32_t> ids, int n, int bits, std::vector<uint64_t>& keys) {
  keys.clear();
  if (ids.size() < static_cast<size_t>(n)) return;
  const size_t count = ids.size() - static_cast<size_t>(n) + 1;
  keys.reserve(count);
  for (size_t s = 0; s < count; ++s) {
    uint64_t key = 0;
    for (int k = 0; k < n; ++k) key = (key << bits) | ids[s + static_cast<size_t>(k)];
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
}

}  // namespace

void PairIds::assign(const std::vector<std::string>& hyp, const std::vector<std::string>& ref) {
  ids_.clear();
  hyp_.clear();
  ref_.clear();
  const auto id_of = [this](const std::string& token) {
    auto [it, inserted] = ids_.try_emplace(token, static_cast<uint32_t>(ids_.size()));
    return it->second;
  };
  for (const auto& t : hyp) hyp_.push_back(id_of(t));
  for (const auto& t : ref) ref_.push_back(id_of(t));
}

NgramOverlap NgramCounter::overlap(std::span<const uint32_t> hyp, std::span<const uint32_t> ref,
                                   int n, uint32_t vocab_size) {
  const int bits =
      std::max(1, static_cast<int>(std::bit_width(vocab_size > 0 ? vocab_size - 1 : 0u)));
  if (n * bits <= 64) {
    packed_keys(hyp, n, bits, hyp_keys_);
    packed_keys(ref, n, bits, ref_keys_);
    const auto& h = hyp_keys_;
    const auto& r = ref_keys_;
    return merge_runs(
        h.size(), r.size(), [&](size_t i, size_t j) { return h[i] < r[j] ? -1 : (h[i] > r[j]); },
        [&](size_t a, size_t b) { return h[a] == h[b]; },
        [&](size_t a, size_t b) { return r[a] == r[b]; });
  }
  // Long n-grams over a large pair vocabulary: sort start positions lexicographically.
  const size_t un = static_cast<size_t>(n);
  const auto starts = [un](std::span<const uint32_t> ids, std::vector<uint32_t>& out) {
    out.clear();
    if (ids.size() < un) return;
    for (size_t s = 0; s + un <= ids.size(); ++s) out.push_back(static_cast<uint32_t>(s));
    std::sort(out.begin(), out.end(), [&](uint32_t a, uint32_t b) {
      return std::lexicographical_compare(ids.begin() + a, ids.begin() + a + un, ids.begin() + b,
                                          ids.begin() + b + un);
    });
  };
  starts(hyp, hyp_starts_);
  starts(ref, ref_starts_);
  const auto cmp3 = [un](const uint32_t* a, const uint32_t* b) {
    for (size_t k = 0; k < un; ++k) {
      if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
    }
    return 0;
  };
  const auto& hs = hyp_starts_;
  const auto& rs = ref_starts_;
  return merge_runs(
      hs.size(), rs.size(), [&](size_t i, size_t j) { return cmp3(&hyp[hs[i]], &ref[rs[j]]); },
      [&](size_t a, size_t b) { return cmp3(&hyp[hs[a]], &hyp[hs[b]]) == 0; },
      [&](size_t a, size_t b) { return cmp3(&ref[rs[a]], &ref[rs[b]]) == 0; });
}

int64_t lcs_length(std::span<const uint32_t> a, std::span<const uint32_t> b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<int32_t> row(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    int32_t diag = 0;  // row[j - 1] of the previous row
    for (size_t j = 1; j <= b.size(); ++j) {
      const int32_t up = row[j];
      row[j] = a[i - 1] == b[j - 1] ? diag + 1 : std::max(up, row[j - 1]);
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace seller::eval
