// Maps original string ids (user ids, item ids) to dense uint32 indices in first-seen order.
// Strings live in one arena and the table is open addressing over indices, so an id costs its
// bytes plus ~20 bytes, and looking up an existing id allocates nothing. This and the per-item
// metadata offsets are the only state of the prepare pipeline that grows with the input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seller::data::prepare {

class IdInterner {
 public:
  IdInterner();
  // The index of `id`, inserting it when new (`inserted` tells which).
  uint32_t intern(std::string_view id, bool& inserted);
  uint32_t size() const { return static_cast<uint32_t>(offsets_.size() - 1); }
  std::string_view id(uint32_t index) const {
    return std::string_view(arena_).substr(offsets_[index], offsets_[index + 1] - offsets_[index]);
  }
  uint64_t memory_bytes() const;

 private:
  void grow();

  std::string arena_;
  std::vector<uint64_t> offsets_;  // size()+1 entries
  std::vector<uint32_t> hashes_;   // low bits of each id's hash, to skip most string compares
  std::vector<uint32_t> slots_;    // index + 1, 0 = empty; power-of-two size
};

}  // namespace seller::data::prepare
