// Minimal PNG header check for plots written by eval/plot: the 8-byte signature and the IHDR
// chunk (length 13, type, width, height, and its CRC-32), which is what a viewer reads first.
// Invariant: a file that passes has the structure of a PNG and the stated size; pixel data is
// not decoded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace seller::eval {

struct PngInfo {
  uint32_t width = 0, height = 0;
  uint8_t bit_depth = 0, color_type = 0;
};

// The header of a PNG file, or nullopt with the reason in *why (when given).
std::optional<PngInfo> read_png_info(const std::filesystem::path& path, std::string* why = nullptr);

}  // namespace seller::eval
