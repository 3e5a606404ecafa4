// Reader of one safetensors file: `u64 N (little-endian) | N bytes of JSON header | data area`.
// The file is memory-mapped and every check runs before any tensor is exposed, so a truncated,
// lying or hostile file is a seller::FormatError naming the file and the tensor, never undefined
// behaviour: header length within the file and at most kMaxHeaderBytes; the header is valid
// UTF-8 JSON, an object starting with '{', without duplicate keys; `__metadata__` is null or an
// object of strings; every other key is a tensor whose entry has exactly `dtype` (a known name),
// `shape` (non-negative integers whose product times the element size does not overflow) and
// `data_offsets` ([begin, end], begin <= end <= data size, end - begin == numel * itemsize); and
// the tensors tile the data area exactly: no overlap, no hole, no trailing bytes (as the
// reference implementation requires).
//
// Zero copy: a TensorView's data points into the mapping and stays valid as long as the
// SafetensorsFile (or ShardedSafetensors) that produced it. The mapping is read-only.
//
// Alignment: the format does not promise that a tensor's bytes are aligned to its element size.
// The mapping starts on a page boundary, so a tensor is aligned iff (8 + N + begin) is a multiple
// of its element size; files from the reference writer and from seller's writer always are
// (header padded to 8, tensors sorted by descending alignment). When `aligned()` is false, copy
// the bytes (`to_vector()` gives storage aligned for any element type) before viewing them as
// typed values or handing them to torch::from_blob.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/io/mmap_file.h"
#include "trainer/io/safetensors_dtype.h"

namespace seller::io {

// Headers above this many bytes are rejected (the reference's limit: 100 MB).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// One tensor: what the header says plus its bytes. Also the writer's input type, where `data`
// points at the caller's bytes (numel * dtype_size bytes, little-endian, C order).
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // empty for a 0-d (scalar) tensor
  std::span<const std::byte> data;

  int64_t numel() const;
  size_t nbytes() const { return data.size(); }
  // True when data() can be read as elements of `dtype` in place (always true when empty).
  bool aligned() const;
  const void* ptr() const { return data.data(); }
  // A copy of the bytes in storage aligned for any dtype.
  std::vector<std::byte> to_vector() const { return {data.begin(), data.end()}; }
  // Typed view; SELLER_CHECKs that sizeof(T) == dtype_size(dtype) and that the data is aligned.
  template <class T>
  std::span<const T> as() const {
    check_typed_access(sizeof(T));
    return {reinterpret_cast<const T*>(data.data()), data.size() / sizeof(T)};
  }

 private:
  void check_typed_access(size_t element_size) const;
};

// A header entry after validation.
struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets into the data area
  uint64_t end = 0;
};

struct SafetensorsHeader {
  uint64_t header_bytes = 0;  // N
  uint64_t data_offset = 0;   // 8 + N: where the data area starts in the file
  uint64_t data_bytes = 0;
  std::map<std::string, std::string> metadata;  // `__metadata__`, empty when absent
  std::vector<SafetensorsEntry> tensors;        // in data-area order
};

// Parses and validates a whole file held in memory (`file` is every byte of it); `source` names
// it in messages. Throws seller::FormatError. Used by SafetensorsFile and the fuzz target.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file,
                                           std::string_view source);

class SafetensorsFile {
 public:
  // Maps and validates `path`. FormatError for a bad file, DataError when it cannot be opened.
  static SafetensorsFile open(const std::filesystem::path& path);

  SafetensorsFile() = default;
  SafetensorsFile(SafetensorsFile&&) noexcept = default;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;

  const std::filesystem::path& path() const { return file_.path(); }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const SafetensorsHeader& header() const { return header_; }
  size_t size() const { return header_.tensors.size(); }
  // Names in data-area order.
  std::vector<std::string> names() const;
  bool contains(std::string_view name) const { return index_.find(name) != index_.end(); }
  // The named tensor; FormatError naming the file when it is absent.
  TensorView tensor(std::string_view name) const;
  std::optional<TensorView> find(std::string_view name) const;
  // Every tensor, in data-area order.
  std::vector<TensorView> tensors() const;

 private:
  TensorView view(const SafetensorsEntry& entry) const;

  MmapFile file_;
  SafetensorsHeader header_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> position in header_.tensors
};

}  // namespace seller::io
