// Element types of the safetensors format: their names in the JSON header, their sizes, and the
// order the reference writer (huggingface/safetensors) places them in. Data is little-endian and
// C-contiguous; seller only builds on little-endian hosts (static_assert in the .cpp).
//
// Mapping to LibTorch (for the model code): F64 kDouble, F32 kFloat, F16 kHalf, BF16 kBFloat16,
// I64 kLong, I32 kInt, I16 kShort, I8 kChar, U8 kByte, BOOL kBool, U16 kUInt16, U32 kUInt32,
// U64 kUInt64, F8_E4M3 kFloat8_e4m3fn, F8_E5M2 kFloat8_e5m2.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace seller::io {

// Declared in the reference's order of increasing alignment; the writer sorts by it (descending).
enum class DType : uint8_t {
  kBool,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
};

inline constexpr DType kAllDTypes[] = {
    DType::kBool, DType::kU8,  DType::kI8,  DType::kF8E5M2, DType::kF8E4M3,
    DType::kI16,  DType::kU16, DType::kF16, DType::kBF16,   DType::kI32,
    DType::kU32,  DType::kF32, DType::kF64, DType::kI64,    DType::kU64,
};

// Bytes per element (1, 2, 4 or 8); also the alignment a typed view needs.
size_t dtype_size(DType dtype);
// The header spelling: "F32", "BF16", "F8_E4M3", "BOOL", ...
std::string_view dtype_name(DType dtype);
// Inverse of dtype_name; nullopt for anything else (sub-byte F4/F6 and complex types included).
std::optional<DType> parse_dtype(std::string_view name);

}  // namespace seller::io
