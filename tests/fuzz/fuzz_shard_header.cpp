// libFuzzer target: arbitrary bytes opened as a section file (format.h), with checksum
// verification on and off, then every section viewed as its type. FormatError is the expected
// outcome for bad input; any crash, sanitizer report or other exception type is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "trainer/core/error.h"
#include "trainer/data/shard/section_file.h"

using seller::data::shard::crc32_update;
using seller::data::shard::ElementType;
using seller::data::shard::FileHeader;
using seller::data::shard::kHeaderCrcOffset;
using seller::data::shard::OpenOptions;
using seller::data::shard::SectionFile;

namespace {
// Touches every byte of every section through its typed view, as a reader would.
uint64_t touch(const SectionFile& f) {
  uint64_t sum = 0;
  for (const auto& s : f.sections()) {
    switch (s.type) {
      case ElementType::kU32:
        for (uint32_t v : f.get<uint32_t>(s.name)) sum += v;
        break;
      case ElementType::kU64:
        for (uint64_t v : f.get<uint64_t>(s.name)) sum += v;
        break;
      case ElementType::kI64:
        for (int64_t v : f.get<int64_t>(s.name)) sum += static_cast<uint64_t>(v);
        break;
      case ElementType::kU8:
        for (char c : f.text(s.name)) sum += static_cast<unsigned char>(c);
        break;
      default:
        sum += s.count;
    }
  }
  return sum;
}

void parse_all(const std::byte* buffer, size_t size) {
  for (bool verify : {true, false}) {
    try {
      OpenOptions options;
      options.verify_checksums = verify;
      SectionFile f = SectionFile::parse({buffer, size}, "fuzz-input", options);
      volatile uint64_t sink = touch(f);
      (void)sink;
    } catch (const seller::FormatError&) {
    }
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Section files are read from page-aligned mmaps; give the parser the same alignment.
  auto* buffer = static_cast<std::byte*>(std::aligned_alloc(64, (size + 63) / 64 * 64 + 64));
  std::unique_ptr<std::byte, decltype(&std::free)> owner(buffer, &std::free);
  if (size > 0) std::memcpy(buffer, data, size);
  parse_all(buffer, size);
  // Again with a correct header crc, so that mutations reach the section-table checks instead
  // of stopping at the checksum.
  if (size >= sizeof(FileHeader)) {
    uint32_t header_size = 0;
    std::memcpy(&header_size, buffer + 12, sizeof header_size);
    if (header_size >= sizeof(FileHeader) && header_size <= size) {
      std::memset(buffer + kHeaderCrcOffset, 0, 4);
      const uint32_t crc = crc32_update(0, buffer, header_size);
      std::memcpy(buffer + kHeaderCrcOffset, &crc, 4);
      parse_all(buffer, size);
    }
  }
  return 0;
}
