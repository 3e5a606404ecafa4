// Re-chunking a checkpoint for another layout (reshard.h).
#include "checkpoints/reshard.h"

#include "checkpoints/verify.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"

namespace seller::ckpt {
namespace fs = std::filesystem;

std::vector<Box> default_plan(const TensorEntry& tensor, const Layout& layout) {
  return split_dim0(tensor.shape, layout.world());
}

ReshardResult reshard(const fs::path& src, const Layout& to, const fs::path& out,
                      const ChunkPlan& plan) {
  SELLER_THROW_IF_NOT(fs::exists(src / kCommittedName), DataError, (src / kCommittedName).string(),
                      ": missing: only a committed checkpoint can be resharded");
  SELLER_THROW_IF_NOT(!fs::exists(out), DataError, out.string(),
                      ": already exists (reshard never overwrites)");
  const Manifest in = read_manifest(src);
  ChunkReader reader(src);
  io::AtomicDir dir(out);
  ReshardResult result;
  result.manifest = in;
  result.manifest.layout = to;
  result.manifest.files.clear();
  for (auto& t : result.manifest.tensors) t.chunks.clear();
  std::vector<std::vector<Box>> plans;
  for (const auto& t : in.tensors) {
    plans.push_back(plan(t, to));
    SELLER_CHECK(static_cast<int64_t>(plans.back().size()) == to.world(), "plan of ", t.name);
  }
  // One rank's file at a time: memory holds at most one new chunk file.
  for (int64_t r = 0; r < to.world(); ++r) {
    std::vector<std::vector<std::byte>> buffers;
    std::vector<ChunkData> chunks;
    std::vector<size_t> tensor_of;
    buffers.reserve(in.tensors.size());
    for (size_t i = 0; i < in.tensors.size(); ++i) {
      const auto& t = in.tensors[i];
      const Box& box = plans[i][static_cast<size_t>(r)];
      if (box.numel() == 0 || (box.shape.size() != t.shape.size())) continue;
      buffers.emplace_back(static_cast<size_t>(box.numel()) * io::dtype_size(t.dtype));
      reader.read(t, box, buffers.back());
      ChunkData c;
      c.name = t.name;
      c.dtype = t.dtype;
      c.global_shape = t.shape;
      c.box = box;
      c.bytes = buffers.back();
      chunks.push_back(std::move(c));
      tensor_of.push_back(i);
    }
    const auto file = chunk_file_name(r);
    const auto entries = write_chunk_file(dir.path() / file, chunks);
    for (size_t k = 0; k < entries.size(); ++k)
      result.manifest.tensors[tensor_of[k]].chunks.push_back(entries[k]);
    const auto bytes = fs::file_size(dir.path() / file);
    result.manifest.files.push_back({file, r, bytes});
    result.bytes += bytes;
    ++result.files;
  }
  for (const auto& t : result.manifest.tensors) {
    const auto problem = check_tiling(t.shape, t.chunks);
    SELLER_CHECK(problem.empty(), "resharded ", t.name, ": ", problem);
  }
  io::write_file_atomically(dir.path() / kManifestName, result.manifest.to_json().dump(1) + "\n");
  io::write_file_atomically(dir.path() / kCommittedName,
                            detail::concat("step ", in.step, "\nresharded from ", src.string(),
                                           " (", in.layout.describe(), ")\n"));
  dir.commit();
  return result;
}

}  // namespace seller::ckpt
