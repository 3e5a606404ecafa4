// Streaming writer of a section file (format.h). The number of sections is declared up front so
// the header space can be reserved; sections are then written one after another, each in as many
// append() calls as convenient (the data never has to be in memory at once), with its crc32
// computed on the fly. finish() patches the header and commits the file atomically (temporary
// name, fsync, rename); a writer destroyed before finish() leaves no file behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/shard/format.h"
#include "trainer/io/atomic_file.h"

namespace seller::data::shard {

class SectionWriter {
 public:
  SectionWriter(const std::filesystem::path& path, std::string_view kind, uint32_t num_sections);
  SectionWriter(const SectionWriter&) = delete;
  SectionWriter& operator=(const SectionWriter&) = delete;

  void begin_section(std::string_view name, ElementType type);
  void append_bytes(const void* data, uint64_t bytes);
  template <class T>
  void append(std::span<const T> values) {
    SELLER_CHECK(element_type_of<T> == current_type_, "section \"", current_name_,
                 "\" appended with the wrong element type");
    append_bytes(values.data(), values.size_bytes());
  }
  template <class T>
  void append_one(const T& value) {
    append(std::span<const T>(&value, 1));
  }
  void end_section();

  // Writes a whole section at once.
  template <class T>
  void section(std::string_view name, std::span<const T> values) {
    begin_section(name, element_type_of<T>);
    append(values);
    end_section();
  }
  template <class T>
  void section(std::string_view name, const std::vector<T>& values) {
    section(name, std::span<const T>(values));
  }

  // Completes the header and renames the file into place. Returns the header crc32, which
  // transitively covers every section's checksum (manifests record it).
  uint32_t finish();
  uint64_t bytes_written() const { return file_.position(); }

 private:
  std::filesystem::path path_;
  io::AtomicFile file_;
  std::string kind_;
  uint32_t num_sections_;
  std::vector<SectionEntry> entries_;
  bool in_section_ = false;
  std::string current_name_;
  ElementType current_type_ = ElementType::kU8;
  uint64_t current_bytes_ = 0;
  uint32_t current_crc_ = 0;
};

}  // namespace seller::data::shard
