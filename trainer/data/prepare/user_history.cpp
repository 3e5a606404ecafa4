// Implementation of UserHistory and the split rules (see user_history.h and prepare.h).
#include "trainer/data/prepare/user_history.h"

#include <algorithm>
#include <cmath>

namespace seller::data::prepare {

void assign_split_tags(const PrepareOptions& options, std::span<SplitTag> tags) {
  const size_t n = tags.size();
  std::fill(tags.begin(), tags.end(), SplitTag::kTrain);
  if (options.split == PrepareOptions::Split::kLeaveOneOut) {
    if (n >= 3) {
      tags[n - 1] = SplitTag::kTest;
      tags[n - 2] = SplitTag::kValid;
    }
    return;
  }
  if (n == 0) return;
  size_t n_test = static_cast<size_t>(std::llround(static_cast<double>(n) * options.test_fraction));
  size_t n_valid =
      static_cast<size_t>(std::llround(static_cast<double>(n) * options.valid_fraction));
  // Keep at least one train interaction: shrink valid first, then test.
  while (n_test + n_valid >= n && n_valid > 0) --n_valid;
  while (n_test >= n && n_test > 0) --n_test;
  for (size_t i = n - n_test; i < n; ++i) tags[i] = SplitTag::kTest;
  for (size_t i = n - n_test - n_valid; i < n - n_test; ++i) tags[i] = SplitTag::kValid;
}

UserHistory::UserHistory(const PrepareOptions& options, uint32_t num_items,
                         const ScratchTexts& texts)
    : options_(options), texts_(texts), item_last_user_(num_items, ~0u) {}

void UserHistory::begin(uint32_t user) {
  user_ = user;
  kept_.clear();
  tags_.clear();
  same_time_begin_ = 0;
}

void UserHistory::add(const SpillRecord& r, PrepareStats& stats) {
  if (options_.dedup) {
    if (item_last_user_[r.item] == user_) {
      ++stats.duplicate_user_item;
      ++stats.duplicates_removed;
      return;
    }
    if (!kept_.empty() && kept_.back().timestamp != r.timestamp) same_time_begin_ = kept_.size();
    if (r.timestamp != kNoTimestamp && r.review_len > 0) {
      for (size_t i = same_time_begin_; i < kept_.size(); ++i) {
        const SpillRecord& k = kept_[i];
        if (k.text_hash == r.text_hash && k.review_len == r.review_len &&
            review(k, 0) == review(r, 1)) {
          ++stats.duplicate_user_time_text;
          ++stats.duplicates_removed;
          return;
        }
      }
    }
    item_last_user_[r.item] = user_;
  }
  kept_.push_back(r);
}

void UserHistory::finish() {
  tags_.resize(kept_.size());
  assign_split_tags(options_, tags_);
}

}  // namespace seller::data::prepare
