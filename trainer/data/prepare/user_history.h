// One user's interactions during the merge: arrives sorted by (timestamp, input order), leaves
// de-duplicated and tagged train/valid/test. Only one user's records are held at a time.
// De-duplication keeps the first record in chronological order of
//   - each (user, item) pair, and
//   - each (user, timestamp, review text) triple when the timestamp is present and the review is
//     non-empty (the Amazon 2018 files repeat one review under every product variant). Texts are
//     compared byte for byte after a hash match, so a hash collision never drops a record.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "trainer/data/prepare/external_sort.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/data/prepare/scratch_texts.h"

namespace seller::data::prepare {

// Tags for a history of n chronologically ordered interactions (see PrepareOptions::Split).
void assign_split_tags(const PrepareOptions& options, std::span<SplitTag> tags);

class UserHistory {
 public:
  UserHistory(const PrepareOptions& options, uint32_t num_items, const ScratchTexts& texts);

  void begin(uint32_t user);
  // Adds the user's next record unless it duplicates a kept one (counted in `stats`).
  void add(const SpillRecord& record, PrepareStats& stats);
  // Assigns split tags to the kept records.
  void finish();

  uint32_t user() const { return user_; }
  std::span<const SpillRecord> records() const { return kept_; }
  std::span<const SplitTag> tags() const { return tags_; }

 private:
  std::string_view review(const SpillRecord& r, int slot) const {
    return texts_.view(r.text_offset, r.review_len, slot);
  }

  const PrepareOptions& options_;
  const ScratchTexts& texts_;
  std::vector<uint32_t> item_last_user_;  // per interned item: last user that kept it
  uint32_t user_ = 0;
  std::vector<SpillRecord> kept_;
  std::vector<SplitTag> tags_;
  size_t same_time_begin_ = 0;  // first kept record with the current timestamp
};

}  // namespace seller::data::prepare
