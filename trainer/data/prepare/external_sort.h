// External merge sort of fixed-size interaction tuples by (user, timestamp, sequence number).
// Records are gathered in a buffer of `memory_bytes`; a full buffer is sorted and appended to a
// scratch file as one run. finish() then merges the runs (in several passes when there are more
// than `fan_in`, so the read buffers stay within the budget) and next() streams the records in
// order. Peak memory is about memory_bytes whatever the input size. The sequence number is the
// record's position in the input, so equal timestamps keep input order and records without a
// timestamp (kNoTimestamp, the smallest value) come first in input order: the sort is stable
// and never looks at ids' spelling.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "trainer/io/atomic_file.h"

namespace seller::data::prepare {

// One interaction as it travels through the sort (56 bytes, no pointers).
struct SpillRecord {
  uint32_t user;         // interned user index
  uint32_t item;         // interned item index
  int64_t timestamp;     // milliseconds, kNoTimestamp when absent
  uint64_t seq;          // position in the input
  uint64_t text_offset;  // review, summary, feature back to back in the texts scratch file
  uint64_t text_hash;    // hash of the review text (for the (user, time, text) de-duplication)
  uint32_t review_len;
  uint32_t summary_len;
  uint32_t feature_len;
  float rating;  // NaN when absent
};
static_assert(sizeof(SpillRecord) == 56);

inline bool sort_before(const SpillRecord& a, const SpillRecord& b) {
  if (a.user != b.user) return a.user < b.user;
  if (a.timestamp != b.timestamp) return a.timestamp < b.timestamp;
  return a.seq < b.seq;
}

class RunMerger;

class ExternalSorter {
 public:
  ExternalSorter(std::filesystem::path scratch_dir, uint64_t memory_bytes, size_t fan_in = 64);
  ~ExternalSorter();
  ExternalSorter(const ExternalSorter&) = delete;
  ExternalSorter& operator=(const ExternalSorter&) = delete;

  void add(const SpillRecord& record) {
    buffer_.push_back(record);
    if (buffer_.size() == capacity_) spill();
  }
  // No add() after this; next() then yields every record in sort order.
  void finish();
  // The next record in order, or nullptr at the end. Valid until the next call.
  const SpillRecord* next();

  uint64_t records() const { return records_; }
  uint64_t runs() const { return runs_spilled_; }
  uint64_t merge_passes() const { return merge_passes_; }
  // Deletes the scratch files (also done by the destructor).
  void remove_scratch();

 private:
  struct Run {
    uint64_t first;  // record index in the scratch file
    uint64_t count;
  };
  void spill();

  std::filesystem::path dir_;
  size_t capacity_;
  size_t fan_in_;
  size_t read_buffer_records_;
  std::vector<SpillRecord> buffer_;
  io::FileWriter writer_;
  std::filesystem::path run_file_;
  std::vector<Run> runs_;
  uint64_t records_ = 0;
  uint64_t runs_spilled_ = 0;
  uint64_t merge_passes_ = 0;
  int read_fd_ = -1;
  size_t memory_pos_ = 0;  // when everything fit in memory: position in buffer_
  bool in_memory_ = false;
  std::unique_ptr<RunMerger> merger_;
  int scratch_counter_ = 0;
};

}  // namespace seller::data::prepare
