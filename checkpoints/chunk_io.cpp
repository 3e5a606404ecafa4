// Box copies, dim-0 splits and chunk files (chunk_io.h).
#include "checkpoints/chunk_io.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>

#include "trainer/core/error.h"
#include "trainer/io/safetensors_reader.h"
#include "trainer/io/safetensors_writer.h"

namespace seller::ckpt {

int64_t Box::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

uint32_t crc32_of(std::span<const std::byte> bytes) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  size_t left = bytes.size();
  while (left > 0) {  // crc32_z takes size_t, but stay portable to zlib < 1.2.9
    const auto n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
    crc = ::crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

int64_t copy_box(size_t esize, const Box& src, std::span<const std::byte> src_bytes, const Box& dst,
                 std::span<std::byte> dst_bytes) {
  const size_t rank = src.shape.size();
  SELLER_CHECK(dst.shape.size() == rank && src.offset.size() == rank && dst.offset.size() == rank);
  SELLER_CHECK(src_bytes.size() == static_cast<size_t>(src.numel()) * esize);
  SELLER_CHECK(dst_bytes.size() == static_cast<size_t>(dst.numel()) * esize);
  if (rank == 0) {
    std::memcpy(dst_bytes.data(), src_bytes.data(), esize);
    return 1;
  }
  std::vector<int64_t> lo(rank), ext(rank);
  for (size_t d = 0; d < rank; ++d) {
    lo[d] = std::max(src.offset[d], dst.offset[d]);
    const int64_t hi = std::min(src.offset[d] + src.shape[d], dst.offset[d] + dst.shape[d]);
    if (hi <= lo[d]) return 0;
    ext[d] = hi - lo[d];
  }
  // Strides in elements of both layouts; the last dim is copied as one contiguous run.
  std::vector<int64_t> ss(rank, 1), ds(rank, 1);
  for (size_t d = rank - 1; d > 0; --d) {
    ss[d - 1] = ss[d] * src.shape[d];
    ds[d - 1] = ds[d] * dst.shape[d];
  }
  const size_t run = static_cast<size_t>(ext[rank - 1]) * esize;
  std::vector<int64_t> idx(rank, 0);  // position inside the intersection, last dim fixed at 0
  int64_t copied = 0;
  while (true) {
    int64_t so = 0, dof = 0;
    for (size_t d = 0; d < rank; ++d) {
      so += (lo[d] + idx[d] - src.offset[d]) * ss[d];
      dof += (lo[d] + idx[d] - dst.offset[d]) * ds[d];
    }
    std::memcpy(dst_bytes.data() + dof * esize, src_bytes.data() + so * esize, run);
    copied += ext[rank - 1];
    size_t d = rank - 1;
    while (d > 0) {
      --d;
      if (++idx[d] < ext[d]) break;
      idx[d] = 0;
      if (d == 0) return copied;
    }
    if (rank == 1) return copied;
  }
}

std::vector<Box> split_dim0(const std::vector<int64_t>& shape, int64_t parts) {
  SELLER_CHECK(parts >= 1);
  std::vector<Box> out(static_cast<size_t>(parts));
  if (shape.empty()) {  // part 0 holds the element; {0} marks "no chunk" (numel 0) elsewhere
    for (int64_t r = 1; r < parts; ++r) out[static_cast<size_t>(r)] = Box{{0}, {0}};
    return out;
  }
  const int64_t n = shape[0], per = (n + parts - 1) / parts;
  for (int64_t r = 0; r < parts; ++r) {
    Box b;
    b.offset.assign(shape.size(), 0);
    b.shape = shape;
    b.offset[0] = std::min(n, r * per);
    b.shape[0] = std::min(n, (r + 1) * per) - b.offset[0];
    out[static_cast<size_t>(r)] = std::move(b);
  }
  return out;
}

std::string chunk_file_name(int64_t rank) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "rank-%05lld.safetensors", static_cast<long long>(rank));
  return buf;
}

std::vector<ChunkEntry> write_chunk_file(const std::filesystem::path& path,
                                         std::span<const ChunkData> chunks) {
  std::vector<io::TensorView> views;
  std::vector<ChunkEntry> entries;
  for (const auto& c : chunks) {
    if (c.box.numel() == 0) continue;  // an empty part: nothing to write
    SELLER_CHECK(c.bytes.size() == static_cast<size_t>(c.box.numel()) * io::dtype_size(c.dtype),
                 "chunk of ", c.name);
    io::TensorView v;
    v.name = c.name;
    v.dtype = c.dtype;
    v.shape = c.box.shape;
    v.data = c.bytes;
    views.push_back(std::move(v));
    ChunkEntry e;
    e.file = path.filename().string();
    e.offset = c.box.offset;
    e.shape = c.box.shape;
    e.crc32 = crc32_of(c.bytes);
    e.bytes = c.bytes.size();
    entries.push_back(std::move(e));
  }
  io::write_safetensors(path, views, {{"format", "seller-checkpoint-chunk"}});
  return entries;
}

struct ChunkReader::Impl {
  std::filesystem::path dir;
  std::map<std::string, io::SafetensorsFile> files;
  std::map<std::pair<std::string, std::string>, bool> verified;  // (file, tensor) crc checked

  const io::SafetensorsFile& file(const std::string& name) {
    auto it = files.find(name);
    if (it == files.end()) it = files.emplace(name, io::SafetensorsFile::open(dir / name)).first;
    return it->second;
  }
};

ChunkReader::ChunkReader(std::filesystem::path dir) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(dir);
}
ChunkReader::~ChunkReader() = default;
ChunkReader::ChunkReader(ChunkReader&&) noexcept = default;

void ChunkReader::verify_chunk(const TensorEntry& t, const ChunkEntry& c) {
  auto& done = impl_->verified[{c.file, t.name}];
  if (done) return;
  const auto path = (impl_->dir / c.file).string();
  const auto& f = impl_->file(c.file);
  const auto view = f.find(t.name);
  SELLER_THROW_IF_NOT(view.has_value(), FormatError, path, ": has no chunk of tensor '", t.name,
                      "' that the manifest lists");
  SELLER_THROW_IF_NOT(view->dtype == t.dtype && view->shape == c.shape, FormatError, path,
                      ": chunk of '", t.name, "' has another dtype or shape than the manifest");
  const uint32_t crc = crc32_of(view->data);
  SELLER_THROW_IF_NOT(crc == c.crc32, FormatError, path, ": checksum mismatch in the chunk of '",
                      t.name, "' (crc32 ", crc, ", manifest says ", c.crc32,
                      "): the file is corrupt");
  done = true;
}

void ChunkReader::read(const TensorEntry& t, const Box& box, std::span<std::byte> dst) {
  const size_t es = io::dtype_size(t.dtype);
  int64_t copied = 0;
  for (const auto& c : t.chunks) {
    verify_chunk(t, c);
    const auto view = impl_->file(c.file).find(t.name);
    copied += copy_box(es, Box{c.offset, c.shape}, view->data, box, dst);
  }
  SELLER_CHECK(copied == box.numel(), "reading ", t.name);
}

std::vector<std::byte> ChunkReader::read_global(const TensorEntry& t) {
  std::vector<std::byte> out(t.nbytes());
  read(t, Box{std::vector<int64_t>(t.shape.size(), 0), t.shape}, out);
  return out;
}

}  // namespace seller::ckpt
