// Offline resharding: a checkpoint re-chunked 1 -> 4 -> 2 -> 1 ranks keeps every global tensor
// bit for bit (including a 0-d tensor and tensors with fewer rows than ranks), the resharded
// manifests describe the new layout and verify, and the round trip back to one rank reproduces
// the original chunk file byte for byte. A corrupt source is refused, an existing output is
// never overwritten.
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "checkpoints/reshard.h"
#include "checkpoints/store.h"
#include "checkpoints/verify.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {
namespace fs = std::filesystem;
using namespace seller::ckpt;
using seller::testing::TempDir;

ChunkData make_tensor(const std::string& name, std::vector<int64_t> shape, seller::io::DType dt,
                      int seed) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  const size_t bytes = static_cast<size_t>(n) * seller::io::dtype_size(dt);
  auto data = std::make_shared<std::vector<std::byte>>(bytes);
  for (size_t i = 0; i < bytes; ++i) (*data)[i] = static_cast<std::byte>((i * 131 + seed) & 0xff);
  ChunkData c;
  c.name = name;
  c.dtype = dt;
  c.global_shape = shape;
  c.box = {std::vector<int64_t>(shape.size(), 0), shape};
  c.bytes = *data;
  c.owner = data;
  return c;
}

std::map<std::string, std::vector<std::byte>> globals(const fs::path& dir) {
  const auto m = read_manifest(dir);
  ChunkReader r(dir);
  std::map<std::string, std::vector<std::byte>> out;
  for (const auto& t : m.tensors) out[t.name] = r.read_global(t);
  return out;
}

TEST(CkptReshard, OneToFourToTwoToOneIsBitExact) {
  TempDir tmp;
  CheckpointStore store(tmp / "ck", {});
  SaveRequest req;
  req.step = 12;
  req.config_yaml = "seed: 3\n";
  req.train_state = {{"loop", {{"step", 12}}}};
  using seller::io::DType;
  req.chunks = {make_tensor("model/embed", {11, 6}, DType::kF32, 1),
                make_tensor("model/norm", {6}, DType::kBF16, 2),
                make_tensor("optim/embed/exp_avg", {11, 6}, DType::kF32, 3),
                make_tensor("model/two_rows", {2, 5}, DType::kF16, 4),
                make_tensor("model/scalar", {}, DType::kF32, 5),
                make_tensor("rng/cpu", {1, 40}, DType::kU8, 6)};
  const auto src = store.save(req);
  const auto original = globals(src);

  const auto four = tmp / "four", two = tmp / "two", one = tmp / "one";
  const auto r4 = reshard(src, parse_layout("dp=4"), four);
  EXPECT_EQ(r4.files, 4);
  EXPECT_EQ(read_manifest(four).layout.world(), 4);
  EXPECT_EQ(read_manifest(four).find("model/embed")->chunks.size(), 4u);  // 3+3+3+2 rows
  EXPECT_EQ(read_manifest(four).find("model/two_rows")->chunks.size(), 2u);
  EXPECT_TRUE(verify_checkpoint(four).ok()) << summarize(verify_checkpoint(four));
  EXPECT_EQ(globals(four), original);

  reshard(four, parse_layout("dp=1,tp=2,ep=1"), two);
  EXPECT_EQ(read_manifest(two).layout.tp, 2);
  EXPECT_TRUE(verify_checkpoint(two).ok());
  EXPECT_EQ(globals(two), original);
  EXPECT_EQ(read_manifest(two).train_state, read_manifest(src).train_state);

  reshard(two, parse_layout("dp=1"), one);
  EXPECT_EQ(globals(one), original);
  EXPECT_EQ(seller::testing::read_file(one / "rank-00000.safetensors"),
            seller::testing::read_file(src / "rank-00000.safetensors"))
      << "back to one rank: the same chunk file byte for byte";

  EXPECT_THROW(reshard(src, parse_layout("dp=2"), four), seller::DataError);  // exists
}

TEST(CkptReshard, RefusesACorruptSource) {
  TempDir tmp;
  CheckpointStore store(tmp / "ck", {});
  SaveRequest req;
  req.step = 1;
  req.chunks = {make_tensor("model/w", {8, 8}, seller::io::DType::kF32, 9)};
  const auto src = store.save(req);
  {
    std::fstream f(src / "rank-00000.safetensors", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-5, std::ios::end);
    f.put('\x7f');
  }
  try {
    reshard(src, parse_layout("dp=2"), tmp / "out");
    FAIL();
  } catch (const seller::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("rank-00000.safetensors"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp / "out"));
}

}  // namespace
