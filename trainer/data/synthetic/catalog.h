// The item catalog of the synthetic dataset: every item's category, main aspects, per-aspect
// quality, popularity and text, plus alias tables that draw an item in O(1) either by popularity
// or from one aspect's pool. Built once from the seed's catalog stream; O(items) memory, which is
// the generator's only memory that grows with the dataset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/data/synthetic/prng.h"
#include "trainer/data/synthetic/synthetic.h"

namespace seller::data::synthetic {

inline constexpr uint32_t kMaxItemAspects = 3;

struct SyntheticItem {
  std::string id;             // "i0042" (zero-padded to the width of the largest index)
  std::string title;          // "Compact Wireless Earbuds QX-417"
  std::string description;    // names the main aspects
  std::string_view noun;      // the category noun of the title ("Wireless Earbuds")
  uint32_t category = 0;      // index into categories()
  uint32_t aspect_count = 0;  // 2 or 3
  uint32_t aspects[kMaxItemAspects] = {};  // main aspects, most prominent first
  double quality[kMaxItemAspects] = {};    // quality of each main aspect, in [0, 1]
  double popularity = 1.0;                 // > 0, log-normal

  bool has_aspect(uint32_t aspect) const {
    for (uint32_t k = 0; k < aspect_count; ++k)
      if (aspects[k] == aspect) return true;
    return false;
  }
};

class Catalog {
 public:
  explicit Catalog(const SyntheticOptions& options);

  uint64_t size() const { return items_.size(); }
  uint32_t aspect_count() const { return aspect_count_; }
  const SyntheticItem& item(uint64_t index) const { return items_[index]; }

  // An item by popularity.
  uint32_t sample_popular(Rng& rng) const { return popular_.sample(rng); }
  // An item having `aspect` among its main aspects, by popularity x aspect quality; falls back
  // to sample_popular when no item has the aspect.
  uint32_t sample_for_aspect(uint32_t aspect, Rng& rng) const;

 private:
  void generate_item(uint64_t index, int id_width, Rng& rng);

  uint32_t aspect_count_;
  std::vector<SyntheticItem> items_;
  AliasTable popular_;
  std::vector<AliasTable> aspect_tables_;  // per aspect, over aspect_members_[aspect]
  std::vector<std::vector<uint32_t>> aspect_members_;
};

// Decimal digits of n - 1 (at least 1): the width that zero-pads ids 0..n-1 to one length.
int id_width(uint64_t n);
// prefix + index zero-padded to width, e.g. ("u", 42, 5) -> "u00042".
void format_id(char prefix, uint64_t index, int width, std::string& out);

}  // namespace seller::data::synthetic
