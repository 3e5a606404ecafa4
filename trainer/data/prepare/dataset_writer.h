// Merge-side writer of a prepared dataset (layout in shard/dataset_layout.h): receives cleaned
// users one at a time, assigns dense user and item ids in order of first appearance, fills CSR
// buffers and writes an interactions shard whenever they reach shard_bytes (a user is never
// split across shards); finish() writes the user and item tables and manifest.json.
// Memory: one shard's buffers plus O(users + items) id tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/data/prepare/external_sort.h"
#include "trainer/data/prepare/id_interner.h"
#include "trainer/data/prepare/ingest.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/data/prepare/scratch_texts.h"
#include "trainer/io/mmap_file.h"

namespace seller::data::prepare {

class DatasetWriter {
 public:
  DatasetWriter(std::filesystem::path dir, const PrepareOptions& options, const ScratchTexts& texts,
                uint32_t num_interned_items);

  void add_user(uint32_t interned_user, std::span<const SpillRecord> records,
                std::span<const SplitTag> tags);
  // Writes the last shard, users.sf, items.sf and manifest.json; fills the counts in `stats`.
  void finish(const IdInterner& users, const IdInterner& items,
              const std::vector<ItemMeta>& item_meta, const io::MmapFile& item_texts,
              PrepareStats& stats);

 private:
  struct TextColumn {
    std::vector<uint64_t> offsets{0};
    std::string text;
    void clear() {
      offsets.assign(1, 0);
      text.clear();
    }
  };
  void flush_shard();
  uint64_t shard_buffer_bytes() const;

  std::filesystem::path dir_;
  const PrepareOptions& options_;
  const ScratchTexts& texts_;
  std::vector<uint32_t> dense_item_;            // interned item -> dense id (~0u: unused)
  std::vector<uint32_t> item_by_dense_;         // dense id -> interned item
  std::vector<uint32_t> user_by_dense_;         // dense id -> interned user
  std::vector<uint64_t> user_interactions_{0};  // global CSR offsets

  // The shard being filled.
  uint64_t shard_first_user_ = 0;
  uint64_t shard_first_interaction_ = 0;
  std::vector<uint64_t> user_offsets_{0};
  std::vector<uint32_t> items_;
  std::vector<int64_t> timestamps_;
  std::vector<float> ratings_;
  std::vector<uint8_t> split_;
  TextColumn columns_[3];  // review, summary, feature
  uint64_t split_counts_[3] = {0, 0, 0};
  nlohmann::json shards_ = nlohmann::json::array();
};

}  // namespace seller::data::prepare
