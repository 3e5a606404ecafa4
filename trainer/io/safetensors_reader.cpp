// Validation and zero-copy access for one safetensors file (see safetensors_reader.h). Every
// offset and size read from the file is checked in 64-bit unsigned arithmetic with explicit
// overflow tests before it is used to form a pointer.
#include "trainer/io/safetensors_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/io/json_strict.h"

namespace seller::io {
namespace {
using nlohmann::json;

// A name as it appears in a message: quoted, and cut short when a hostile file makes it huge.
std::string quote_name(std::string_view name) {
  constexpr size_t kMax = 120;
  if (name.size() <= kMax) return "'" + std::string(name) + "'";
  return "'" + std::string(name.substr(0, kMax)) + "...' (" + std::to_string(name.size()) +
         " bytes)";
}

[[noreturn]] void fail(std::string_view source, const std::string& what) {
  throw FormatError(detail::concat(source, ": not a valid safetensors file: ", what));
}

[[noreturn]] void fail_tensor(std::string_view source, std::string_view tensor,
                              const std::string& what) {
  fail(source, "tensor " + quote_name(tensor) + ": " + what);
}

const char* json_type(const json& value) { return value.type_name(); }

// A JSON integer in [0, max], or nullopt (floats, negatives, bools and strings are not).
std::optional<uint64_t> non_negative_integer(const json& value, uint64_t max) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v <= max) return v;
    return std::nullopt;
  }
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if (v >= 0 && static_cast<uint64_t>(v) <= max) return static_cast<uint64_t>(v);
  }
  return std::nullopt;
}

SafetensorsEntry parse_entry(std::string_view source, const std::string& name, const json& value,
                             uint64_t data_bytes) {
  if (!value.is_object()) {
    fail_tensor(source, name,
                std::string("entry is a JSON ") + json_type(value) +
                    ", expected an object with dtype, shape and data_offsets");
  }
  for (const auto& [key, _] : value.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets") {
      fail_tensor(
          source, name,
          "unknown field " + quote_name(key) + " (expected only dtype, shape and data_offsets)");
    }
  }
  SafetensorsEntry entry;
  entry.name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end()) fail_tensor(source, name, "missing 'dtype'");
  if (!dtype_it->is_string()) fail_tensor(source, name, "'dtype' is not a string");
  const auto& dtype_text = dtype_it->get_ref<const std::string&>();
  const auto dtype = parse_dtype(dtype_text);
  if (!dtype) {
    fail_tensor(source, name,
                "unsupported dtype " + quote_name(dtype_text) +
                    " (supported: F64 F32 F16 BF16 I64 I32 I16 I8 U64 U32 U16 U8 BOOL F8_E4M3 "
                    "F8_E5M2)");
  }
  entry.dtype = *dtype;

  const auto shape_it = value.find("shape");
  if (shape_it == value.end()) fail_tensor(source, name, "missing 'shape'");
  if (!shape_it->is_array()) fail_tensor(source, name, "'shape' is not an array");
  // numel * itemsize must fit in the data area, so any product above it is already an error;
  // checking against uint64 overflow first keeps the arithmetic defined.
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& dim_value : *shape_it) {
    const auto dim =
        non_negative_integer(dim_value, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
    if (!dim) {
      fail_tensor(
          source, name,
          "shape " + shape_it->dump() + " has an entry that is not a non-negative 64-bit integer");
    }
    entry.shape.push_back(static_cast<int64_t>(*dim));
    if (*dim != 0 && numel > std::numeric_limits<uint64_t>::max() / *dim) overflow = true;
    numel = overflow ? 0 : numel * *dim;
  }
  // A zero dimension makes numel 0 whatever the other dimensions are, but an overflowing product
  // before it is still an absurd shape.
  if (overflow) fail_tensor(source, name, "shape " + shape_it->dump() + " overflows 64 bits");
  const uint64_t item = dtype_size(entry.dtype);
  if (numel > std::numeric_limits<uint64_t>::max() / item) {
    fail_tensor(source, name, "shape " + shape_it->dump() + " times the element size overflows");
  }
  const uint64_t nbytes = numel * item;

  const auto offsets_it = value.find("data_offsets");
  if (offsets_it == value.end()) fail_tensor(source, name, "missing 'data_offsets'");
  if (!offsets_it->is_array() || offsets_it->size() != 2) {
    fail_tensor(source, name, "'data_offsets' is not an array [begin, end]");
  }
  const auto begin = non_negative_integer((*offsets_it)[0], std::numeric_limits<uint64_t>::max());
  const auto end = non_negative_integer((*offsets_it)[1], std::numeric_limits<uint64_t>::max());
  if (!begin || !end) {
    fail_tensor(source, name,
                "data_offsets " + offsets_it->dump() + " are not non-negative integers");
  }
  if (*begin > *end) {
    fail_tensor(source, name, "data_offsets " + offsets_it->dump() + " end before they begin");
  }
  if (*end > data_bytes) {
    fail_tensor(source, name,
                detail::concat("data_offsets ", offsets_it->dump(), " reach past the data area of ",
                               data_bytes, " bytes (file truncated or offsets lie)"));
  }
  if (*end - *begin != nbytes) {
    fail_tensor(source, name,
                detail::concat("data_offsets ", offsets_it->dump(), " span ", *end - *begin,
                               " bytes but dtype ", dtype_text, " and shape ", shape_it->dump(),
                               " need ", nbytes));
  }
  entry.begin = *begin;
  entry.end = *end;
  return entry;
}

// The reference requires the tensors to tile the data area: sorted by offsets, each starts where
// the previous ended, and the last ends at the end of the file.
void check_coverage(std::string_view source, std::vector<SafetensorsEntry>& tensors,
                    uint64_t data_bytes) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t cursor = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto& t : tensors) {
    if (t.begin < cursor) {
      fail_tensor(source, t.name,
                  detail::concat("bytes [", t.begin, ", ", t.end, ") overlap tensor ",
                                 quote_name(previous->name), " which ends at ", cursor));
    }
    if (t.begin > cursor) {
      fail_tensor(source, t.name,
                  detail::concat("hole of ", t.begin - cursor, " unreferenced bytes [", cursor,
                                 ", ", t.begin, ") in the data area before this tensor"));
    }
    cursor = t.end;
    previous = &t;
  }
  if (cursor != data_bytes) {
    fail(source, detail::concat("hole of ", data_bytes - cursor, " unreferenced bytes [", cursor,
                                ", ", data_bytes, ") at the end of the data area",
                                previous ? " after tensor " + quote_name(previous->name) : ""));
  }
}

}  // namespace

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) {
    SELLER_CHECK(d >= 0 && !__builtin_mul_overflow(n, d, &n), "shape of tensor ", name);
  }
  return n;
}

bool TensorView::aligned() const {
  return data.empty() || reinterpret_cast<uintptr_t>(data.data()) % dtype_size(dtype) == 0;
}

void TensorView::check_typed_access(size_t element_size) const {
  SELLER_CHECK(element_size == dtype_size(dtype), "typed view of ", name, " (", dtype_name(dtype),
               ") with an element of ", element_size, " bytes");
  SELLER_CHECK(aligned(), "typed view of unaligned tensor ", name, "; copy it with to_vector()");
}

SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file,
                                           std::string_view source) {
  if (file.size() < 8) {
    fail(source,
         detail::concat("file has ", file.size(), " bytes, fewer than the 8 of the header length"));
  }
  uint64_t n = 0;
  std::memcpy(&n, file.data(), 8);  // little-endian host (static_assert in safetensors_dtype)
  if (n > kMaxSafetensorsHeaderBytes) {
    fail(source, detail::concat("header length ", n, " exceeds the limit of ",
                                kMaxSafetensorsHeaderBytes, " bytes"));
  }
  if (n > file.size() - 8) {
    fail(source, detail::concat("header length ", n, " is larger than the ", file.size() - 8,
                                " bytes after the length field (file truncated?)"));
  }
  if (n == 0 || static_cast<char>(file[8]) != '{') {
    fail(source, "header does not start with '{'");
  }
  SafetensorsHeader header;
  header.header_bytes = n;
  header.data_offset = 8 + n;
  header.data_bytes = file.size() - header.data_offset;

  const std::string_view text(reinterpret_cast<const char*>(file.data()) + 8, n);
  std::string error;
  const auto parsed = parse_json_strict(text, &error);
  if (!parsed) fail(source, "header is not valid UTF-8 JSON: " + error);
  if (!parsed->is_object()) fail(source, "header is not a JSON object");

  for (const auto& [key, value] : parsed->items()) {
    if (key == "__metadata__") {
      if (value.is_null()) continue;
      if (!value.is_object()) fail(source, "__metadata__ is not an object of strings");
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string()) {
          fail(source, "__metadata__ entry " + quote_name(meta_key) + " is not a string");
        }
        header.metadata.emplace(meta_key, meta_value.get<std::string>());
      }
      continue;
    }
    header.tensors.push_back(parse_entry(source, key, value, header.data_bytes));
  }
  check_coverage(source, header.tensors, header.data_bytes);
  return header;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  SafetensorsFile result;
  result.file_ = MmapFile::open(path);
  result.header_ = parse_safetensors_header(result.file_.bytes(), path.string());
  for (size_t i = 0; i < result.header_.tensors.size(); ++i) {
    result.index_.emplace(result.header_.tensors[i].name, i);
  }
  return result;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(header_.tensors.size());
  for (const auto& t : header_.tensors) out.push_back(t.name);
  return out;
}

TensorView SafetensorsFile::view(const SafetensorsEntry& entry) const {
  const auto bytes =
      file_.bytes().subspan(header_.data_offset + entry.begin, entry.end - entry.begin);
  return TensorView{entry.name, entry.dtype, entry.shape, bytes};
}

std::optional<TensorView> SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  if (it == index_.end()) return std::nullopt;
  return view(header_.tensors[it->second]);
}

TensorView SafetensorsFile::tensor(std::string_view name) const {
  auto found = find(name);
  if (!found) {
    throw FormatError(detail::concat(path().string(), ": no tensor ", quote_name(name)));
  }
  return std::move(*found);
}

std::vector<TensorView> SafetensorsFile::tensors() const {
  std::vector<TensorView> out;
  out.reserve(header_.tensors.size());
  for (const auto& t : header_.tensors) out.push_back(view(t));
  return out;
}

}  // namespace seller::io
