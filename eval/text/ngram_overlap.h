// Exact n-gram bookkeeping shared by BLEU and ROUGE. The tokens of one (hypothesis, reference)
// pair get dense integer ids; an n-gram is then a short id sequence, packed into one 64-bit key
// when n * bits(id) <= 64 and compared element by element otherwise. Both paths are exact:
// nothing is hashed, so two n-grams match iff their tokens are byte-equal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace seller::eval {

// Dense ids for the tokens of one pair; ids are in [0, vocab_size()).
class PairIds {
 public:
  void assign(const std::vector<std::string>& hyp, const std::vector<std::string>& ref);
  const std::vector<uint32_t>& hyp() const { return hyp_; }
  const std::vector<uint32_t>& ref() const { return ref_; }
  uint32_t vocab_size() const { return static_cast<uint32_t>(ids_.size()); }

 private:
  std::unordered_map<std::string_view, uint32_t> ids_;
  std::vector<uint32_t> hyp_;
  std::vector<uint32_t> ref_;
};

struct NgramOverlap {
  int64_t hyp_count = 0;         // n-grams of the hypothesis, repeats included
  int64_t ref_count = 0;         // n-grams of the reference, repeats included
  int64_t clipped_matches = 0;   // sum over n-grams of min(count in hyp, count in ref)
  int64_t hyp_distinct = 0;      // distinct n-grams of the hypothesis
  int64_t ref_distinct = 0;      // distinct n-grams of the reference
  int64_t distinct_matches = 0;  // distinct n-grams present in both
};

// Counts n-gram overlaps; keeps its scratch buffers between calls (one per thread).
class NgramCounter {
 public:
  NgramOverlap overlap(std::span<const uint32_t> hyp, std::span<const uint32_t> ref, int n,
                       uint32_t vocab_size);

 private:
  std::vector<uint64_t> hyp_keys_;
  std::vector<uint64_t> ref_keys_;
  std::vector<uint32_t> hyp_starts_;
  std::vector<uint32_t> ref_starts_;
};

// Length of the longest common subsequence of two id sequences (O(|a||b|) time, O(|b|) memory).
int64_t lcs_length(std::span<const uint32_t> a, std::span<const uint32_t> b);

}  // namespace seller::eval
