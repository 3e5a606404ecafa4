// Implementation of IdInterner (see id_interner.h): linear probing at load factor <= 1/2.
#include "trainer/data/prepare/id_interner.h"

#include <functional>
#include <limits>

#include "trainer/core/error.h"

namespace seller::data::prepare {

namespace {
inline uint64_t hash_id(std::string_view s) { return std::hash<std::string_view>{}(s); }
}  // namespace

IdInterner::IdInterner() : offsets_{0}, slots_(1024, 0) {}

uint32_t IdInterner::intern(std::string_view id, bool& inserted) {
  const uint64_t h = hash_id(id);
  const uint32_t h32 = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
    const uint32_t slot = slots_[pos];
    if (slot == 0) {
      const uint64_t index = offsets_.size() - 1;
      if (index >= std::numeric_limits<uint32_t>::max() - 1) {
        throw DataError("more than 4 billion distinct ids: seller's 32-bit ids cannot hold them");
      }
      arena_.append(id);
      offsets_.push_back(arena_.size());
      hashes_.push_back(h32);
      slots_[pos] = static_cast<uint32_t>(index + 1);
      inserted = true;
      if ((offsets_.size() - 1) * 2 > slots_.size()) grow();
      return static_cast<uint32_t>(index);
    }
    const uint32_t index = slot - 1;
    if (hashes_[index] == h32 && this->id(index) == id) {
      inserted = false;
      return index;
    }
  }
}

void IdInterner::grow() {
  std::vector<uint32_t> slots(slots_.size() * 2, 0);
  const size_t mask = slots.size() - 1;
  for (uint32_t index = 0; index < size(); ++index) {
    size_t pos = hash_id(id(index)) & mask;
    while (slots[pos] != 0) pos = (pos + 1) & mask;
    slots[pos] = index + 1;
  }
  slots_ = std::move(slots);
}

uint64_t IdInterner::memory_bytes() const {
  return arena_.capacity() + offsets_.capacity() * 8 + hashes_.capacity() * 4 +
         slots_.capacity() * 4;
}

}  // namespace seller::data::prepare
