// Read side of a prepared dataset (layout in shard/dataset_layout.h): memory-maps the shards and
// tables and hands out zero-copy views per user and per item. open() validates everything an
// accessor relies on (manifest, header checksums against the manifest, CSR offsets monotonic and
// in range, item ids < num_items, split tags known), so a corrupt or truncated folder is a
// FormatError at open and never undefined behaviour later; verify_checksums additionally checks
// the crc32 of every data byte.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/data/prepare/prepare.h"

namespace seller::data {

class Dataset {
 public:
  static Dataset open(const std::filesystem::path& dir, bool verify_checksums = true);

  Dataset(Dataset&&) noexcept;
  Dataset& operator=(Dataset&&) noexcept;
  ~Dataset();

  uint32_t num_users() const { return num_users_; }
  uint32_t num_items() const { return num_items_; }
  uint64_t num_interactions() const { return num_interactions_; }
  size_t num_shards() const;

  // Per user (dense id in [0, num_users)): the chronological history and what goes with it.
  std::span<const uint32_t> history(uint32_t user) const;
  std::span<const int64_t> timestamps(uint32_t user) const;  // ms; kNoTimestamp when absent
  std::span<const float> ratings(uint32_t user) const;       // NaN when absent
  std::span<const uint8_t> split_tags(uint32_t user) const;  // values of SplitTag
  SplitTag split(uint32_t user, size_t k) const { return SplitTag(split_tags(user)[k]); }
  std::string_view review(uint32_t user, size_t k) const;
  std::string_view summary(uint32_t user, size_t k) const;
  std::string_view feature(uint32_t user, size_t k) const;
  std::string_view user_id(uint32_t user) const;  // the original id
  // Global index of the user's first interaction (CSR offset over all shards).
  uint64_t interaction_offset(uint32_t user) const;
  size_t history_length(uint32_t user) const { return history(user).size(); }

  // Per item (dense id in [0, num_items)).
  std::string_view item_id(uint32_t item) const;  // the original id
  std::string_view item_title(uint32_t item) const;
  std::string_view item_description(uint32_t item) const;
  std::string_view item_category(uint32_t item) const;

  // From the manifest (seconds is not stored and reads 0).
  const PrepareStats& stats() const { return stats_; }
  const std::string& source_format() const { return source_format_; }
  const std::vector<std::string>& source_files() const { return source_files_; }
  const std::string& manifest_json() const { return manifest_json_; }
  const std::filesystem::path& path() const { return dir_; }

 private:
  struct Impl;
  struct Shard;
  Dataset();
  // The shard holding `user` and the user's row in it; out of range ids are an internal error.
  const Shard& locate(uint32_t user, uint64_t& local) const;

  std::unique_ptr<Impl> impl_;
  std::filesystem::path dir_;
  uint32_t num_users_ = 0;
  uint32_t num_items_ = 0;
  uint64_t num_interactions_ = 0;
  PrepareStats stats_;
  std::string source_format_;
  std::vector<std::string> source_files_;
  std::string manifest_json_;
};

}  // namespace seller::data
