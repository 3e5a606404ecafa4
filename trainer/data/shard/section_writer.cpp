// Implementation of SectionWriter (see section_writer.h).
#include "trainer/data/shard/section_writer.h"

#include <cstring>

#include "trainer/core/error.h"

namespace seller::data::shard {

SectionWriter::SectionWriter(const std::filesystem::path& path, std::string_view kind,
                             uint32_t num_sections)
    : path_(path), file_(path, 4 << 20), kind_(kind), num_sections_(num_sections) {
  SELLER_CHECK(kind.size() < kKindBytes, "kind too long: ", kind);
  SELLER_CHECK(num_sections <= kMaxSections, "too many sections");
  entries_.reserve(num_sections);
  // Reserve the header; finish() fills it in.
  const uint64_t header_size = sizeof(FileHeader) + uint64_t{num_sections} * sizeof(SectionEntry);
  std::vector<char> zeros(header_size, 0);
  file_.write(zeros.data(), zeros.size());
}

void SectionWriter::begin_section(std::string_view name, ElementType type) {
  SELLER_CHECK(!in_section_, "begin_section(", name, ") inside section ", current_name_);
  SELLER_CHECK(entries_.size() < num_sections_, "more sections than declared in ", path_.string());
  SELLER_CHECK(!name.empty() && name.size() < kNameBytes, "bad section name: ", name);
  for (const SectionEntry& e : entries_) {
    SELLER_CHECK(std::string_view(e.name) != name, "duplicate section ", name);
  }
  file_.writer().pad_to(kAlignment);
  in_section_ = true;
  current_name_ = std::string(name);
  current_type_ = type;
  current_bytes_ = 0;
  current_crc_ = 0;
  SectionEntry e{};
  std::memcpy(e.name, name.data(), name.size());
  e.element_type = static_cast<uint32_t>(type);
  e.element_size = element_size(type);
  e.offset = file_.position();
  entries_.push_back(e);
}

void SectionWriter::append_bytes(const void* data, uint64_t bytes) {
  SELLER_CHECK(in_section_, "append outside a section in ", path_.string());
  if (bytes == 0) return;
  current_crc_ = crc32_update(current_crc_, data, bytes);
  file_.write(data, bytes);
  current_bytes_ += bytes;
}

void SectionWriter::end_section() {
  SELLER_CHECK(in_section_, "end_section outside a section");
  SectionEntry& e = entries_.back();
  SELLER_CHECK(current_bytes_ % e.element_size == 0, "section ", current_name_,
               " ends mid-element");
  e.count = current_bytes_ / e.element_size;
  e.crc32 = current_crc_;
  in_section_ = false;
}

uint32_t SectionWriter::finish() {
  SELLER_CHECK(!in_section_, "finish inside section ", current_name_);
  SELLER_CHECK(entries_.size() == num_sections_, path_.string(), ": ", entries_.size(),
               " sections written, ", num_sections_, " declared");
  FileHeader h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kFormatVersion;
  h.header_size =
      static_cast<uint32_t>(sizeof(FileHeader) + entries_.size() * sizeof(SectionEntry));
  h.header_crc32 = 0;
  h.section_count = num_sections_;
  h.file_size = file_.position();
  std::memcpy(h.kind, kind_.data(), kind_.size());
  std::vector<char> header(h.header_size);
  std::memcpy(header.data(), &h, sizeof h);
  if (!entries_.empty()) {
    std::memcpy(header.data() + sizeof h, entries_.data(), entries_.size() * sizeof(SectionEntry));
  }
  const uint32_t crc = crc32_update(0, header.data(), header.size());
  std::memcpy(header.data() + kHeaderCrcOffset, &crc, sizeof crc);
  file_.writer().write_at(0, header.data(), header.size());
  file_.commit();
  return crc;
}

}  // namespace seller::data::shard
