// Pass 1 of prepare: receives records in input order, interns ids, remembers each item's first
// non-empty title/description/category, writes texts to scratch files and feeds fixed-size tuples
// to the external sort. Nothing per record is allocated once the id is known.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "trainer/data/prepare/external_sort.h"
#include "trainer/data/prepare/id_interner.h"
#include "trainer/data/prepare/prepare.h"
#include "trainer/data/record.h"
#include "trainer/io/atomic_file.h"

namespace seller::data::prepare {

// Where an item's metadata strings lie in the item-texts scratch file (length 0 = not seen yet).
struct ItemMeta {
  uint64_t offset[3] = {0, 0, 0};  // title, description, category
  uint32_t length[3] = {0, 0, 0};
};

class Ingestor {
 public:
  Ingestor(const std::filesystem::path& scratch_dir, const PrepareOptions& options,
           ExternalSorter& sorter);
  void add(const Record& record, const SourcePosition& position);
  // Flushes and closes the scratch files.
  void finish();

  const IdInterner& users() const { return users_; }
  const IdInterner& items() const { return items_; }
  const std::vector<ItemMeta>& item_meta() const { return item_meta_; }
  const std::filesystem::path& texts_path() const { return texts_path_; }
  const std::filesystem::path& item_texts_path() const { return item_texts_path_; }
  uint64_t records() const { return seq_; }
  uint64_t records_without_timestamp() const { return without_timestamp_; }

 private:
  const PrepareOptions& options_;
  ExternalSorter& sorter_;
  IdInterner users_;
  IdInterner items_;
  std::vector<ItemMeta> item_meta_;
  std::filesystem::path texts_path_;
  std::filesystem::path item_texts_path_;
  io::FileWriter texts_;
  io::FileWriter item_texts_;
  uint64_t seq_ = 0;
  uint64_t without_timestamp_ = 0;
};

}  // namespace seller::data::prepare
