// The torch-free checkpoint library: manifest round trip and validation, box copies and dim-0
// splits, the commit protocol (COMMITTED, latest, retention), verification of truncated and
// corrupted chunks, resume skipping bad checkpoints with a warning naming the file, injected
// disk-full and read-only faults that leave the committed checkpoints untouched, and errors of
// background saves surfacing on the caller's thread.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <numeric>
#include <sstream>

#include "checkpoints/async_saver.h"
#include "checkpoints/fault.h"
#include "checkpoints/store.h"
#include "checkpoints/verify.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {
namespace fs = std::filesystem;
using namespace seller::ckpt;
using seller::testing::TempDir;

// A float tensor 0, 1, 2, ... of `shape` as one whole chunk (its bytes owned by the chunk).
ChunkData make_tensor(const std::string& name, std::vector<int64_t> shape, float start = 0) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  auto data = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
  std::iota(data->begin(), data->end(), start);
  ChunkData c;
  c.name = name;
  c.dtype = seller::io::DType::kF32;
  c.global_shape = shape;
  c.box = {std::vector<int64_t>(shape.size(), 0), shape};
  c.bytes = {reinterpret_cast<const std::byte*>(data->data()), data->size() * sizeof(float)};
  c.owner = data;
  return c;
}

SaveRequest request(int64_t step) {
  SaveRequest r;
  r.step = step;
  r.config_yaml = "seed: 1\nllm:\n  hidden_size: 8\ncheckpoint:\n  every_steps: 5\n";
  r.train_state = {{"loop", {{"step", step}}}};
  r.chunks = {make_tensor("model/w", {4, 3}, static_cast<float>(step)), make_tensor("model/b", {3}),
              make_tensor("model/scalar", {})};
  return r;
}

void flip_byte(const fs::path& file, uint64_t from_end) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(-static_cast<std::streamoff>(from_end), std::ios::end);
  char c;
  f.get(c);
  f.seekp(-static_cast<std::streamoff>(from_end), std::ios::end);
  f.put(static_cast<char>(c ^ 0x40));
}

TEST(CkptBoxes, SplitAndCopyRoundTrip) {
  const std::vector<int64_t> shape = {5, 3, 2};
  auto whole = make_tensor("t", shape);
  const auto parts = split_dim0(shape, 3);  // 2, 2, 1 rows
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].shape[0], 2);
  EXPECT_EQ(parts[2].offset[0], 4);
  EXPECT_EQ(parts[2].shape[0], 1);
  std::vector<std::byte> back(whole.bytes.size());
  const Box all{{0, 0, 0}, shape};
  for (const auto& p : parts) {
    std::vector<std::byte> piece(static_cast<size_t>(p.numel()) * 4);
    EXPECT_EQ(copy_box(4, all, whole.bytes, p, piece), p.numel());
    copy_box(4, p, piece, all, back);
  }
  EXPECT_TRUE(std::equal(back.begin(), back.end(), whole.bytes.begin()));
  // An inner box (not along dim 0) and disjoint boxes.
  const Box inner{{1, 1, 0}, {3, 2, 1}};
  std::vector<std::byte> in(static_cast<size_t>(inner.numel()) * 4);
  copy_box(4, all, whole.bytes, inner, in);
  const auto* f = reinterpret_cast<const float*>(in.data());
  EXPECT_EQ(f[0], 1 * 6 + 1 * 2 + 0);
  EXPECT_EQ(f[5], 3 * 6 + 2 * 2 + 0);
  std::vector<std::byte> p0(static_cast<size_t>(parts[0].numel()) * 4),
      p2(static_cast<size_t>(parts[2].numel()) * 4);
  EXPECT_EQ(copy_box(4, parts[0], p0, parts[2], p2), 0) << "disjoint boxes copy nothing";
}

TEST(CkptBoxes, MoreRanksThanRowsAndScalars) {
  const auto parts = split_dim0({2, 4}, 4);
  EXPECT_EQ(parts[1].numel(), 4);
  EXPECT_EQ(parts[2].numel(), 0);
  EXPECT_EQ(parts[3].numel(), 0);
  const auto s = split_dim0({}, 3);
  EXPECT_EQ(s[0].numel(), 1);
  EXPECT_EQ(s[1].numel(), 0);
}

TEST(CkptManifest, RoundTripAndValidation) {
  Manifest m;
  m.step = 7;
  m.config_yaml = "a: 1\n";
  m.config_hash = config_hash(m.config_yaml);
  m.layout = {2, 1, 1};
  m.files = {{"rank-00000.safetensors", 0, 100}, {"rank-00001.safetensors", 1, 100}};
  TensorEntry t{"w", seller::io::DType::kF32, {4, 2}, {}};
  t.chunks.push_back({"rank-00000.safetensors", {0, 0}, {2, 2}, 1, 16});
  t.chunks.push_back({"rank-00001.safetensors", {2, 0}, {2, 2}, 2, 16});
  m.tensors.push_back(t);
  const auto back = parse_manifest(m.to_json(), "x");
  EXPECT_EQ(back.step, 7);
  EXPECT_EQ(back.layout, m.layout);
  ASSERT_NE(back.find("w"), nullptr);
  EXPECT_EQ(back.find("w")->chunks[1].offset, (std::vector<int64_t>{2, 0}));
  // Overlapping or incomplete chunks are a FormatError naming the source.
  auto j = m.to_json();
  j["tensors"]["w"]["chunks"][1]["offset"] = {1, 0};
  try {
    parse_manifest(j, "bad.json");
    FAIL();
  } catch (const seller::FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos) << e.what();
  }
  // The checkpoint section does not change the hash; anything else does.
  EXPECT_EQ(config_hash("a: 1\ncheckpoint:\n  keep: 2\nb: 2\n"),
            config_hash("a: 1\ncheckpoint:\n  keep: 5\nb: 2\n"));
  EXPECT_NE(config_hash("a: 1\nb: 2\n"), config_hash("a: 1\nb: 3\n"));
  EXPECT_EQ(parse_layout("dp=4,tp=2").world(), 8);
  EXPECT_THROW(parse_layout("dp=0"), seller::ConfigError);
  EXPECT_THROW(parse_layout("pp=2"), seller::ConfigError);
}

TEST(CkptStore, CommitLatestRetentionAndResume) {
  TempDir tmp;
  StoreOptions o;
  o.keep = 2;
  CheckpointStore store(tmp / "checkpoints", o);
  for (int64_t s : {10, 20, 30}) store.save(request(s));
  const auto c = store.committed();
  ASSERT_EQ(c.size(), 2u) << "keep = 2";
  EXPECT_EQ(c[0].step, 20);
  EXPECT_EQ(c[1].step, 30);
  EXPECT_EQ(seller::testing::read_file(tmp / "checkpoints" / "latest"), "step-000000030\n");
  const auto dir = c[1].dir;
  for (const char* f : {"manifest.json", "COMMITTED", "rank-00000.safetensors"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  EXPECT_TRUE(verify_checkpoint(dir).ok());
  const auto m = read_manifest(dir);
  EXPECT_EQ(m.step, 30);
  EXPECT_EQ(m.tensors.size(), 3u);
  EXPECT_EQ(m.train_state["loop"]["step"], 30);
  ChunkReader reader(dir);
  const auto w = reader.read_global(*m.find("model/w"));
  EXPECT_EQ(reinterpret_cast<const float*>(w.data())[0], 30.0f);

  // Saving a step that is already committed replaces it only once the new one is committed.
  auto again = request(30);
  again.chunks[0] = make_tensor("model/w", {4, 3}, 99.0f);
  store.save(again);
  EXPECT_EQ(reinterpret_cast<const float*>(
                ChunkReader(dir).read_global(*read_manifest(dir).find("model/w")).data())[0],
            99.0f);
  for (const auto& e : fs::directory_iterator(tmp / "checkpoints"))
    EXPECT_EQ(e.path().filename().string().find(".old-"), std::string::npos) << e.path();

  // A flipped byte in the newest: resume warns naming the file and takes the previous one.
  flip_byte(dir / "rank-00000.safetensors", 3);
  const auto bad = verify_checkpoint(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.problems[0].find("rank-00000.safetensors"), std::string::npos) << bad.problems[0];
  EXPECT_NE(bad.problems[0].find("checksum"), std::string::npos) << bad.problems[0];
  std::ostringstream warn;
  auto r = store.find_resumable(&warn, true);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->step, 20);
  EXPECT_NE(warn.str().find("step-000000030"), std::string::npos) << warn.str();

  // A truncated chunk file and a missing COMMITTED marker are skipped too.
  fs::resize_file(c[0].dir / "rank-00000.safetensors", 40);
  EXPECT_NE(summarize(verify_checkpoint(c[0].dir)).find("truncated"), std::string::npos);
  EXPECT_FALSE(store.find_resumable(nullptr, true).has_value());
  fs::create_directories(tmp / "checkpoints" / "step-000000040");
  EXPECT_NE(summarize(verify_checkpoint(tmp / "checkpoints" / "step-000000040")).find("COMMITTED"),
            std::string::npos);
}

TEST(CkptStore, InjectedFaultsLeaveCommittedCheckpointsAlone) {
  TempDir tmp;
  CheckpointStore store(tmp / "checkpoints", {});
  store.save(request(5));
  const auto before =
      seller::testing::read_file(tmp / "checkpoints" / "step-000000005" / "rank-00000.safetensors");
  for (const char* fault : {"enospc", "erofs"}) {
    const std::string spec = std::string(fault) + "@" + std::to_string(fault_saves_so_far() + 1);
    setenv("SELLER_FAULT", spec.c_str(), 1);
    try {
      store.save(request(10));
      FAIL() << fault;
    } catch (const seller::DataError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(fault == std::string("enospc") ? "No space left" : "Read-only"),
                std::string::npos)
          << what;
      EXPECT_NE(what.find("checkpoints"), std::string::npos) << "names the path: " << what;
    }
    unsetenv("SELLER_FAULT");
    // Nothing half-written stays behind; the committed checkpoint is intact and still latest.
    for (const auto& e : fs::directory_iterator(tmp / "checkpoints"))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
    EXPECT_FALSE(fs::exists(tmp / "checkpoints" / "step-000000010"));
    EXPECT_EQ(seller::testing::read_file(tmp / "checkpoints" / "latest"), "step-000000005\n");
    EXPECT_EQ(seller::testing::read_file(tmp / "checkpoints" / "step-000000005" /
                                         "rank-00000.safetensors"),
              before);
  }
  setenv("SELLER_FAULT", "explode", 1);
  EXPECT_THROW(store.save(request(10)), seller::ConfigError);
  unsetenv("SELLER_FAULT");
}

TEST(CkptAsync, ErrorsSurfaceOnTheCallersThread) {
  AsyncSaver saver;
  std::atomic<int> ran{0};
  saver.submit([&] { ran += 1; });
  saver.submit([&] {
    ran += 1;
    throw seller::DataError("disk full in background");
  });
  // The third submit waits for the second and rethrows its error.
  EXPECT_THROW(saver.submit([&] { ran += 1; }), seller::DataError);
  EXPECT_EQ(ran.load(), 2);
  saver.submit([&] { throw seller::DataError("late"); });
  EXPECT_THROW(saver.wait(), seller::DataError);
  saver.wait();  // the error is reported once
}

}  // namespace
