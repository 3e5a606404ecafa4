// Implementation of the PNG header check (see png_info.h); CRC-32 as in the PNG specification
// (ISO/IEC 15948 annex D), computed here so the check needs no zlib.
#include "eval/plot/png_info.h"

#include <array>
#include <fstream>

namespace seller::eval {
namespace {

uint32_t crc32(const unsigned char* p, size_t n) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

std::optional<PngInfo> fail(std::string* why, const std::string& reason) {
  if (why) *why = reason;
  return std::nullopt;
}

}  // namespace

std::optional<PngInfo> read_png_info(const std::filesystem::path& path, std::string* why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(why, "cannot open " + path.string());
  unsigned char h[33];
  in.read(reinterpret_cast<char*>(h), sizeof h);
  if (in.gcount() != sizeof h) return fail(why, path.string() + ": shorter than a PNG header");
  static const unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  for (int i = 0; i < 8; ++i)
    if (h[i] != kSignature[i]) return fail(why, path.string() + ": no PNG signature");
  if (be32(h + 8) != 13 || h[12] != 'I' || h[13] != 'H' || h[14] != 'D' || h[15] != 'R')
    return fail(why, path.string() + ": first chunk is not a 13-byte IHDR");
  if (crc32(h + 12, 17) != be32(h + 29)) return fail(why, path.string() + ": IHDR CRC mismatch");
  PngInfo info;
  info.width = be32(h + 16);
  info.height = be32(h + 20);
  info.bit_depth = h[24];
  info.color_type = h[25];
  if (info.width == 0 || info.height == 0) return fail(why, path.string() + ": zero image size");
  return info;
}

}  // namespace seller::eval
