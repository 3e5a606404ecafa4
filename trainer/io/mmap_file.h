// Read-only memory mapping of a whole file (RAII). The mapping is private and read-only, so the
// bytes seen through data() never change under the reader even if the file is replaced by
// rename; an empty file maps to an empty span (mmap rejects length 0). Page-aligned base, so
// sections at 64-byte offsets can be viewed as typed spans without copies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace seller::io {

class MmapFile {
 public:
  MmapFile() = default;
  // Maps the whole file; throws seller::DataError naming the file when it cannot be opened.
  static MmapFile open(const std::filesystem::path& path);

  ~MmapFile();
  MmapFile(MmapFile&& other) noexcept;
  MmapFile& operator=(MmapFile&& other) noexcept;
  MmapFile(const MmapFile&) = delete;
  MmapFile& operator=(const MmapFile&) = delete;

  const std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::string_view chars(uint64_t offset, uint64_t length) const {
    return {reinterpret_cast<const char*>(data_) + offset, static_cast<size_t>(length)};
  }
  const std::filesystem::path& path() const { return path_; }
  bool is_open() const { return !path_.empty(); }

  // Drops the pages this process has touched from its resident set (they stay in the page
  // cache); lets a long sequential scan keep a flat RSS.
  void release_pages() const;
  // Hints that the whole file will be read sequentially.
  void advise_sequential() const;

 private:
  void reset() noexcept;

  std::filesystem::path path_;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace seller::io
