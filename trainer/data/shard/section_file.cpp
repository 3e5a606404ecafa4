// Validation of section files (see section_file.h and format.h). The order of checks matters for
// the messages: size before magic, magic before version, version before anything whose layout a
// newer version might change, header crc before trusting the section table.
#include "trainer/data/shard/section_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace seller::data::shard {

uint32_t crc32_update(uint32_t crc, const void* data, size_t bytes) {
  return static_cast<uint32_t>(
      ::crc32_z(crc, static_cast<const Bytef*>(data), static_cast<z_size_t>(bytes)));
}

namespace {
// A NUL-padded fixed-size field as a string; `ok` is false when it has no NUL terminator or
// bytes after the first NUL are not NUL (a corrupted field).
std::string fixed_string(const char* field, size_t size, bool& ok) {
  size_t len = strnlen(field, size);
  ok = len < size;
  for (size_t i = len; ok && i < size; ++i) ok = field[i] == '\0';
  return std::string(field, len);
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xf];
      out += kHex[static_cast<unsigned char>(c) & 0xf];
    }
  }
  return out;
}
}  // namespace

SectionFile SectionFile::open(const std::filesystem::path& path, const OpenOptions& options) {
  SectionFile f;
  f.file_ = io::MmapFile::open(path);
  f.bytes_ = f.file_.bytes();
  f.name_ = path.string();
  f.validate(options);
  return f;
}

SectionFile SectionFile::parse(std::span<const std::byte> bytes, std::string name,
                               const OpenOptions& options) {
  SELLER_CHECK(reinterpret_cast<uintptr_t>(bytes.data()) % kAlignment == 0,
               "SectionFile::parse needs a 64-byte aligned buffer");
  SectionFile f;
  f.bytes_ = bytes;
  f.name_ = std::move(name);
  f.validate(options);
  return f;
}

void SectionFile::fail(const std::string& message) const {
  throw FormatError(detail::concat(name_, ": ", message));
}

void SectionFile::validate(const OpenOptions& options) {
  const uint64_t size = bytes_.size();
  if (size < sizeof(FileHeader)) {
    fail(detail::concat("truncated or not a section file: ", size, " bytes, the header alone is ",
                        sizeof(FileHeader)));
  }
  FileHeader h;
  std::memcpy(&h, bytes_.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    fail(detail::concat("not a seller section file (magic is \"",
                        printable(std::string_view(h.magic, sizeof h.magic)),
                        "\", expected \"SELLERSF\")"));
  }
  if (h.version > kFormatVersion) {
    fail(detail::concat("written by a newer seller: format version ", h.version,
                        ", this build reads version ", kFormatVersion, " (upgrade seller)"));
  }
  if (h.version == 0) fail("format version 0 is invalid (corrupted header)");
  version_ = h.version;
  if (h.section_count > kMaxSections) {
    fail(detail::concat("corrupted header: ", h.section_count, " sections (at most ", kMaxSections,
                        ")"));
  }
  const uint64_t header_size =
      sizeof(FileHeader) + uint64_t{h.section_count} * sizeof(SectionEntry);
  if (h.header_size != header_size) {
    fail(detail::concat("corrupted header: header size ", h.header_size, " for ", h.section_count,
                        " sections (expected ", header_size, ")"));
  }
  if (h.file_size != size) {
    if (size < h.file_size) {
      fail(detail::concat("truncated: ", size, " bytes, the header says ", h.file_size));
    }
    fail(detail::concat("file size ", size, " does not match the header's ", h.file_size,
                        " (trailing bytes or corrupted header)"));
  }
  if (header_size > size) {
    fail(detail::concat("truncated: ", size, " bytes, the section table ends at ", header_size));
  }
  uint32_t crc = crc32_update(0, bytes_.data(), kHeaderCrcOffset);
  const uint32_t zero = 0;
  crc = crc32_update(crc, &zero, sizeof zero);
  crc = crc32_update(crc, bytes_.data() + kHeaderCrcOffset + sizeof zero,
                     header_size - kHeaderCrcOffset - sizeof zero);
  if (crc != h.header_crc32) {
    fail(detail::concat("header checksum mismatch (stored ", h.header_crc32, ", computed ", crc,
                        "): the file is corrupted"));
  }
  header_crc32_ = h.header_crc32;
  bool ok = false;
  kind_ = fixed_string(h.kind, sizeof h.kind, ok);
  if (!ok) fail("corrupted header: kind field is not NUL-terminated");
  if (!options.expected_kind.empty() && kind_ != options.expected_kind) {
    fail(detail::concat("holds \"", printable(kind_), "\" data, expected \"", options.expected_kind,
                        "\""));
  }

  sections_.clear();
  sections_.reserve(h.section_count);
  uint64_t previous_end = header_size;
  for (uint32_t i = 0; i < h.section_count; ++i) {
    SectionEntry e;
    std::memcpy(&e, bytes_.data() + sizeof(FileHeader) + uint64_t{i} * sizeof(SectionEntry),
                sizeof e);
    SectionInfo s;
    s.name = fixed_string(e.name, sizeof e.name, ok);
    if (!ok || s.name.empty()) {
      fail(detail::concat("corrupted section table: entry ", i, " has a malformed name"));
    }
    const std::string where = detail::concat("section \"", printable(s.name), "\"");
    s.type = static_cast<ElementType>(e.element_type);
    const uint32_t esize = element_size(s.type);
    if (esize == 0) fail(detail::concat(where, " has unknown element type ", e.element_type));
    if (e.element_size != esize) {
      fail(detail::concat(where, " has element size ", e.element_size, " but type ",
                          element_type_name(s.type), " needs ", esize));
    }
    if (e.offset % kAlignment != 0) {
      fail(detail::concat(where, " starts at offset ", e.offset, ", not 64-byte aligned"));
    }
    if (e.count > size / esize) {
      fail(detail::concat(where, " claims ", e.count, " elements, more than the file holds"));
    }
    const uint64_t bytes = e.count * esize;
    if (e.offset < previous_end || e.offset > size || bytes > size - e.offset) {
      fail(detail::concat(where, " (offset ", e.offset, ", ", bytes,
                          " bytes) lies outside the data area [", previous_end, ", ", size,
                          ") or overlaps the previous section"));
    }
    previous_end = e.offset + bytes;
    if (find(s.name) != nullptr) fail(detail::concat(where, " appears twice"));
    s.count = e.count;
    s.offset = e.offset;
    s.crc32 = e.crc32;
    sections_.push_back(std::move(s));
  }
  if (options.verify_checksums) verify_checksums();
}

void SectionFile::verify_checksums() const {
  // Alignment padding is covered by no checksum; it must be zero so that every byte is checked.
  uint64_t pos = sizeof(FileHeader) + sections_.size() * sizeof(SectionEntry);
  auto check_zero = [&](uint64_t from, uint64_t to) {
    for (uint64_t i = from; i < to; ++i) {
      if (bytes_[i] != std::byte{0}) {
        fail(detail::concat("non-zero padding byte at offset ", i, ": the file is corrupted"));
      }
    }
  };
  for (const SectionInfo& s : sections_) {
    check_zero(pos, s.offset);
    pos = s.offset + s.bytes();
  }
  check_zero(pos, bytes_.size());
  for (const SectionInfo& s : sections_) {
    uint32_t crc = crc32_update(0, bytes_.data() + s.offset, s.bytes());
    if (crc != s.crc32) {
      fail(detail::concat("section \"", printable(s.name), "\" checksum mismatch (stored ", s.crc32,
                          ", computed ", crc, "): the file is corrupted"));
    }
  }
}

const SectionInfo* SectionFile::find(std::string_view section) const {
  for (const SectionInfo& s : sections_) {
    if (s.name == section) return &s;
  }
  return nullptr;
}

const SectionInfo& SectionFile::info(std::string_view section) const {
  const SectionInfo* s = find(section);
  if (s == nullptr) fail(detail::concat("missing section \"", section, "\""));
  return *s;
}

const SectionInfo& SectionFile::typed_info(std::string_view section, ElementType type) const {
  const SectionInfo& s = info(section);
  if (s.type != type) {
    fail(detail::concat("section \"", section, "\" holds ", element_type_name(s.type),
                        ", expected ", element_type_name(type)));
  }
  return s;
}

}  // namespace seller::data::shard
