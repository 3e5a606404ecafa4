// Reader of a section file (format.h): validates the header and section table on open and then
// hands out zero-copy typed views of the sections. Every structural problem (truncation, bad
// magic, newer version, header or data checksum mismatch, a section outside the file, an element
// size that does not match its type) throws seller::FormatError naming the file and the problem;
// after a successful open every view lies within the mapped bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/shard/format.h"
#include "trainer/io/mmap_file.h"

namespace seller::data::shard {

struct SectionInfo {
  std::string name;
  ElementType type;
  uint64_t count;
  uint64_t offset;
  uint32_t crc32;
  uint64_t bytes() const { return count * element_size(type); }
};

struct OpenOptions {
  bool verify_checksums = true;  // crc32 of every section's data (the header crc is always checked)
  std::string_view expected_kind;  // empty: any kind
};

class SectionFile {
 public:
  SectionFile() = default;
  // Maps and validates `path`. A missing or unreadable file is a DataError; a malformed one a
  // FormatError.
  static SectionFile open(const std::filesystem::path& path, const OpenOptions& options = {});
  // Validates bytes already in memory (not owned; must outlive the result and be 64-byte
  // aligned). `name` is used in error messages.
  static SectionFile parse(std::span<const std::byte> bytes, std::string name,
                           const OpenOptions& options = {});

  SectionFile(SectionFile&&) noexcept = default;
  SectionFile& operator=(SectionFile&&) noexcept = default;

  const std::string& name() const { return name_; }
  const std::string& kind() const { return kind_; }
  uint32_t version() const { return version_; }
  uint32_t header_crc32() const { return header_crc32_; }
  uint64_t file_size() const { return bytes_.size(); }
  const std::vector<SectionInfo>& sections() const { return sections_; }

  bool has(std::string_view section) const { return find(section) != nullptr; }
  const SectionInfo& info(std::string_view section) const;

  // The section viewed as elements of T; FormatError if it is missing or of another type.
  template <class T>
  std::span<const T> get(std::string_view section) const {
    const SectionInfo& s = typed_info(section, element_type_of<T>);
    return {reinterpret_cast<const T*>(bytes_.data() + s.offset), static_cast<size_t>(s.count)};
  }
  // A u8 section viewed as text.
  std::string_view text(std::string_view section) const {
    const SectionInfo& s = typed_info(section, ElementType::kU8);
    return {reinterpret_cast<const char*>(bytes_.data() + s.offset), static_cast<size_t>(s.count)};
  }

  // Recomputes every section's crc32 (open() already does so unless told not to).
  void verify_checksums() const;

  // Throws FormatError("<file>: <message>"), for checks of the contents done by callers.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  void validate(const OpenOptions& options);
  const SectionInfo* find(std::string_view section) const;
  const SectionInfo& typed_info(std::string_view section, ElementType type) const;

  io::MmapFile file_;  // empty for parse()
  std::span<const std::byte> bytes_;
  std::string name_;
  std::string kind_;
  uint32_t version_ = 0;
  uint32_t header_crc32_ = 0;
  std::vector<SectionInfo> sections_;
};

}  // namespace seller::data::shard
