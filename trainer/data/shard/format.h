// On-disk layout of a seller "section file" (shards, item and user tables). All integers are
// little-endian; the file is a 64-byte fixed header, a table of 64-byte section entries, then the
// sections' data, each starting at a 64-byte aligned offset so an mmap'd file can be viewed as
// typed spans without copies.
//
//   FileHeader   (64 bytes)  magic "SELLERSF", format version, header size (64 + 64 * count),
//                            header crc32, section count, total file size, kind (NUL padded)
//   SectionEntry (64 bytes each)  name (NUL padded), element type, element size, element count,
//                            data offset, crc32 of the data bytes
//   data ...
//
// The header crc32 covers the whole header (fixed part and section table) with the crc field
// itself read as zero, so it transitively covers every section checksum. Version 1 is the only
// version so far; a reader refuses versions newer than its own with a message naming both.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace seller::data::shard {

static_assert(std::endian::native == std::endian::little,
              "the section file format is little-endian; big-endian hosts need byte swaps");

inline constexpr char kMagic[8] = {'S', 'E', 'L', 'L', 'E', 'R', 'S', 'F'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kAlignment = 64;
inline constexpr size_t kKindBytes = 32;
inline constexpr size_t kNameBytes = 32;
inline constexpr uint32_t kMaxSections = 4096;

enum class ElementType : uint32_t {
  kU8 = 1,
  kU16 = 2,
  kU32 = 3,
  kU64 = 4,
  kI32 = 5,
  kI64 = 6,
  kF32 = 7,
  kF64 = 8,
};

// Size in bytes of one element, 0 for an unknown type code.
constexpr uint32_t element_size(ElementType type) {
  switch (type) {
    case ElementType::kU8:
      return 1;
    case ElementType::kU16:
      return 2;
    case ElementType::kU32:
    case ElementType::kI32:
    case ElementType::kF32:
      return 4;
    case ElementType::kU64:
    case ElementType::kI64:
    case ElementType::kF64:
      return 8;
  }
  return 0;
}

constexpr std::string_view element_type_name(ElementType type) {
  switch (type) {
    case ElementType::kU8:
      return "u8";
    case ElementType::kU16:
      return "u16";
    case ElementType::kU32:
      return "u32";
    case ElementType::kU64:
      return "u64";
    case ElementType::kI32:
      return "i32";
    case ElementType::kI64:
      return "i64";
    case ElementType::kF32:
      return "f32";
    case ElementType::kF64:
      return "f64";
  }
  return "unknown";
}

template <class T>
struct ElementTypeOf;
template <>
struct ElementTypeOf<uint8_t> {
  static constexpr ElementType value = ElementType::kU8;
};
template <>
struct ElementTypeOf<char> {
  static constexpr ElementType value = ElementType::kU8;
};
template <>
struct ElementTypeOf<uint16_t> {
  static constexpr ElementType value = ElementType::kU16;
};
template <>
struct ElementTypeOf<uint32_t> {
  static constexpr ElementType value = ElementType::kU32;
};
template <>
struct ElementTypeOf<uint64_t> {
  static constexpr ElementType value = ElementType::kU64;
};
template <>
struct ElementTypeOf<int32_t> {
  static constexpr ElementType value = ElementType::kI32;
};
template <>
struct ElementTypeOf<int64_t> {
  static constexpr ElementType value = ElementType::kI64;
};
template <>
struct ElementTypeOf<float> {
  static constexpr ElementType value = ElementType::kF32;
};
template <>
struct ElementTypeOf<double> {
  static constexpr ElementType value = ElementType::kF64;
};
template <class T>
inline constexpr ElementType element_type_of = ElementTypeOf<T>::value;

// The fixed header, exactly as stored (read and written with memcpy, never cast in place).
struct FileHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;   // 64 + 64 * section_count
  uint32_t header_crc32;  // crc32 of the header bytes with this field read as 0
  uint32_t section_count;
  uint64_t file_size;     // total bytes, so truncation is named as such
  char kind[kKindBytes];  // what the file holds ("interactions", "items", ...), NUL padded
};
static_assert(sizeof(FileHeader) == 64);
inline constexpr size_t kHeaderCrcOffset = offsetof(FileHeader, header_crc32);

struct SectionEntry {
  char name[kNameBytes];  // NUL padded, unique in the file
  uint32_t element_type;  // ElementType
  uint32_t element_size;  // must equal element_size(element_type)
  uint64_t count;         // number of elements
  uint64_t offset;        // from the start of the file, multiple of kAlignment
  uint32_t crc32;         // of the count * element_size data bytes
  uint32_t reserved;      // 0
};
static_assert(sizeof(SectionEntry) == 64);

// crc32 (zlib polynomial) of bytes, continuing from `crc` (0 to start).
uint32_t crc32_update(uint32_t crc, const void* data, size_t bytes);

}  // namespace seller::data::shard
