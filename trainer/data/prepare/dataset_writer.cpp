// Implementation of DatasetWriter (see dataset_writer.h and shard/dataset_layout.h).
#include "trainer/data/prepare/dataset_writer.h"

#include <cstdio>
#include <limits>

#include "trainer/core/error.h"
#include "trainer/data/shard/dataset_layout.h"
#include "trainer/data/shard/section_writer.h"
#include "trainer/io/atomic_file.h"

namespace seller::data::prepare {
namespace fs = std::filesystem;
using shard::ElementType;
using shard::SectionWriter;

namespace {
std::string shard_name(size_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%05zu", index);
  return std::string(layout::kShardPrefix) + buf + layout::kShardSuffix;
}

nlohmann::json file_entry(const std::string& name, uint32_t crc, uint64_t bytes) {
  return {{"file", name}, {"header_crc32", crc}, {"bytes", bytes}};
}

// Writes `{field}_offsets` and `{field}_text` for n strings given by get(i) -> string_view.
template <class Get>
void write_text_column(SectionWriter& w, const std::string& field, uint64_t n, Get get) {
  w.begin_section(field + "_offsets", ElementType::kU64);
  uint64_t offset = 0;
  w.append_one<uint64_t>(offset);
  for (uint64_t i = 0; i < n; ++i) {
    offset += get(i).size();
    w.append_one<uint64_t>(offset);
  }
  w.end_section();
  w.begin_section(field + "_text", ElementType::kU8);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view s = get(i);
    w.append_bytes(s.data(), s.size());
  }
  w.end_section();
}
}  // namespace

DatasetWriter::DatasetWriter(fs::path dir, const PrepareOptions& options, const ScratchTexts& texts,
                             uint32_t num_interned_items)
    : dir_(std::move(dir)),
      options_(options),
      texts_(texts),
      dense_item_(num_interned_items, ~0u) {}

uint64_t DatasetWriter::shard_buffer_bytes() const {
  uint64_t bytes = user_offsets_.size() * 8 + items_.size() * (4 + 8 + 4 + 1);
  for (const TextColumn& c : columns_) bytes += c.offsets.size() * 8 + c.text.size();
  return bytes;
}

void DatasetWriter::add_user(uint32_t interned_user, std::span<const SpillRecord> records,
                             std::span<const SplitTag> tags) {
  SELLER_CHECK(records.size() == tags.size(), "tags for every record");
  if (records.empty()) return;
  if (user_by_dense_.size() >= std::numeric_limits<uint32_t>::max() - 1) {
    throw DataError("more than 4 billion users: seller's 32-bit ids cannot hold them");
  }
  user_by_dense_.push_back(interned_user);
  for (size_t i = 0; i < records.size(); ++i) {
    const SpillRecord& r = records[i];
    uint32_t& dense = dense_item_[r.item];
    if (dense == ~0u) {
      dense = static_cast<uint32_t>(item_by_dense_.size());
      item_by_dense_.push_back(r.item);
    }
    items_.push_back(dense);
    timestamps_.push_back(r.timestamp);
    ratings_.push_back(r.rating);
    split_.push_back(static_cast<uint8_t>(tags[i]));
    ++split_counts_[static_cast<uint8_t>(tags[i])];
    const uint32_t lengths[3] = {r.review_len, r.summary_len, r.feature_len};
    const uint64_t total = uint64_t{lengths[0]} + lengths[1] + lengths[2];
    if (total > 0) {
      const std::string_view all = texts_.view(r.text_offset, total);
      size_t at = 0;
      for (int c = 0; c < 3; ++c) {
        columns_[c].text.append(all.data() + at, lengths[c]);
        at += lengths[c];
      }
    }
    for (TextColumn& c : columns_) c.offsets.push_back(c.text.size());
  }
  user_offsets_.push_back(items_.size());
  user_interactions_.push_back(user_interactions_.back() + records.size());
  if (shard_buffer_bytes() >= options_.shard_bytes) flush_shard();
}

void DatasetWriter::flush_shard() {
  const uint64_t num_users = user_offsets_.size() - 1;
  if (num_users == 0) return;
  const std::string name = shard_name(shards_.size());
  SectionWriter w(dir_ / name, layout::kInteractionsKind, 12);
  const uint64_t range[2] = {shard_first_user_, shard_first_interaction_};
  w.section<uint64_t>("user_range", std::span<const uint64_t>(range));
  w.section("user_offsets", user_offsets_);
  w.section("items", items_);
  w.section("timestamps", timestamps_);
  w.section("ratings", ratings_);
  w.section("split", split_);
  for (int c = 0; c < 3; ++c) {
    const std::string field = layout::kInteractionTextFields[c];
    w.section(field + "_offsets", columns_[c].offsets);
    w.begin_section(field + "_text", ElementType::kU8);
    w.append_bytes(columns_[c].text.data(), columns_[c].text.size());
    w.end_section();
  }
  const uint64_t bytes = w.bytes_written();
  const uint32_t crc = w.finish();
  nlohmann::json entry = file_entry(name, crc, bytes);
  entry["first_user"] = shard_first_user_;
  entry["num_users"] = num_users;
  entry["first_interaction"] = shard_first_interaction_;
  entry["num_interactions"] = items_.size();
  shards_.push_back(std::move(entry));

  shard_first_user_ += num_users;
  shard_first_interaction_ += items_.size();
  user_offsets_.assign(1, 0);
  items_.clear();
  timestamps_.clear();
  ratings_.clear();
  split_.clear();
  for (TextColumn& c : columns_) c.clear();
}

void DatasetWriter::finish(const IdInterner& users, const IdInterner& items,
                           const std::vector<ItemMeta>& item_meta, const io::MmapFile& item_texts,
                           PrepareStats& stats) {
  flush_shard();
  const uint64_t num_users = user_by_dense_.size();
  const uint64_t num_items = item_by_dense_.size();
  stats.users = num_users;
  stats.items = num_items;
  stats.interactions = user_interactions_.back();
  stats.train = split_counts_[0];
  stats.valid = split_counts_[1];
  stats.test = split_counts_[2];
  stats.shards = shards_.size();

  nlohmann::json files;
  {
    SectionWriter w(dir_ / layout::kUsersFile, layout::kUsersKind, 3);
    write_text_column(w, "id", num_users, [&](uint64_t u) { return users.id(user_by_dense_[u]); });
    w.section("interaction_offsets", user_interactions_);
    const uint64_t bytes = w.bytes_written();
    files["users"] = file_entry(layout::kUsersFile, w.finish(), bytes);
  }
  {
    SectionWriter w(dir_ / layout::kItemsFile, layout::kItemsKind, 8);
    write_text_column(w, "id", num_items, [&](uint64_t i) { return items.id(item_by_dense_[i]); });
    for (int f = 0; f < 3; ++f) {
      write_text_column(w, layout::kItemTextFields[f + 1], num_items, [&](uint64_t i) {
        const ItemMeta& m = item_meta[item_by_dense_[i]];
        return item_texts.chars(m.offset[f], m.length[f]);
      });
    }
    const uint64_t bytes = w.bytes_written();
    files["items"] = file_entry(layout::kItemsFile, w.finish(), bytes);
  }

  nlohmann::json manifest;
  manifest["format"] = layout::kManifestFormat;
  manifest["format_version"] = layout::kManifestVersion;
  manifest["counts"] = {
      {"users", num_users},   {"items", num_items},   {"interactions", stats.interactions},
      {"train", stats.train}, {"valid", stats.valid}, {"test", stats.test}};
  manifest["stats"] = {{"input_records", stats.input_records},
                       {"duplicates_removed", stats.duplicates_removed},
                       {"duplicate_user_item", stats.duplicate_user_item},
                       {"duplicate_user_time_text", stats.duplicate_user_time_text},
                       {"users_dropped", stats.users_dropped},
                       {"interactions_dropped", stats.interactions_dropped},
                       {"records_without_timestamp", stats.records_without_timestamp},
                       {"sort_runs", stats.sort_runs},
                       {"merge_passes", stats.merge_passes}};
  manifest["options"] = {{"dedup", options_.dedup},
                         {"split", split_name(options_.split)},
                         {"valid_fraction", options_.valid_fraction},
                         {"test_fraction", options_.test_fraction},
                         {"min_user_interactions", options_.min_user_interactions},
                         {"sort_memory_bytes", options_.sort_memory_bytes},
                         {"shard_bytes", options_.shard_bytes}};
  manifest["source"] = {{"format", options_.source_format}, {"files", options_.source_files}};
  manifest["files"] = std::move(files);
  manifest["shards"] = shards_;
  // Replace invalid UTF-8 (e.g. in a source file name) instead of failing at the very end.
  io::write_file_atomically(
      dir_ / layout::kManifestFile,
      manifest.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

}  // namespace seller::data::prepare
