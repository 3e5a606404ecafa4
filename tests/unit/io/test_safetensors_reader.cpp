// The safetensors reader on real pretrained weights (stories260K-hf) against the reference Python
// library, zero-copy and alignment guarantees, and the sharded (index.json) reader: lazy loading
// and every index/shard inconsistency as a FormatError.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "tests/unit/io/io_test_util.h"
#include "trainer/core/error.h"
#include "trainer/io/safetensors.h"

namespace seller::io {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using seller::testing::TempDir;
using seller::testing::write_file;

TEST(SafetensorsReader, StoriesMatchesPythonOracle) {
  SELLER_SHARED_OR_SKIP(path, "models/stories260K-hf/model.safetensors");
  SELLER_PYTHON_OR_SKIP(python, "safetensors, torch");
  const auto file = SafetensorsFile::open(path);
  const json ours = test::describe(file);
  const json theirs = test::run_oracle(python, "describe " + test::quote(path));
  ASSERT_FALSE(theirs.is_null());
  EXPECT_EQ(theirs["tensors"].size(), 47u);
  EXPECT_EQ(ours["tensors"], theirs["tensors"]);
  EXPECT_EQ(ours["metadata"], theirs["metadata"]);
}

TEST(SafetensorsReader, StoriesShapesAndZeroCopyViews) {
  SELLER_SHARED_OR_SKIP(path, "models/stories260K-hf/model.safetensors");
  const auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file.size(), 47u);
  EXPECT_EQ(file.metadata().at("format"), "pt");
  const auto embed = file.tensor("model.embed_tokens.weight");
  EXPECT_EQ(embed.dtype, DType::kF32);
  EXPECT_EQ(embed.shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embed.numel(), 512 * 64);
  EXPECT_EQ(embed.as<float>().size(), 512u * 64u);
  EXPECT_EQ(file.tensor("model.layers.0.self_attn.k_proj.weight").shape,
            (std::vector<int64_t>{32, 64}));  // 4 KV heads x head_dim 8
  // Views point into one mapping, in data-area order, and are aligned (reference writer).
  const auto all = file.tensors();
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_TRUE(all[i].aligned()) << all[i].name;
    if (i > 0) {
      EXPECT_EQ(all[i - 1].data.data() + all[i - 1].data.size(), all[i].data.data());
    }
  }
  const auto again = file.tensor("model.embed_tokens.weight");
  EXPECT_EQ(again.data.data(), embed.data.data());
  EXPECT_FALSE(file.find("lm_head.weight").has_value());  // tied embeddings
  EXPECT_FORMAT_ERROR((void)file.tensor("lm_head.weight"), "lm_head.weight", path.string());
}

TEST(SafetensorsReader, UnalignedTensorIsReportedAndCopyable) {
  // A hand-made file whose F32 tensor starts at data offset 1 (legal, but not aligned).
  TempDir tmp;
  std::string header = R"({"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string bytes(8, '\0');
  bytes[0] = static_cast<char>(header.size());
  bytes += header;
  bytes += '\x07';
  const float values[2] = {1.5f, -2.0f};
  bytes.append(reinterpret_cast<const char*>(values), sizeof values);
  write_file(tmp / "u.safetensors", bytes);
  const auto file = SafetensorsFile::open(tmp / "u.safetensors");
  const auto f = file.tensor("f");
  EXPECT_FALSE(f.aligned());
  EXPECT_THROW((void)f.as<float>(), Error);
  const auto copy = f.to_vector();
  const TensorView owned{f.name, f.dtype, f.shape, copy};
  ASSERT_TRUE(owned.aligned());
  EXPECT_EQ(owned.as<float>()[0], 1.5f);
  EXPECT_EQ(owned.as<float>()[1], -2.0f);
  EXPECT_THROW((void)owned.as<double>(), Error);  // wrong element size
}

// --- sharded checkpoints -------------------------------------------------------------------

using test::Owned;

Owned small_model() {
  Owned m;
  m.add("embed", DType::kF32, {16, 8}, 1);      // 512 bytes
  m.add("layer.0.w", DType::kBF16, {8, 8}, 2);  // 128
  m.add("layer.1.w", DType::kBF16, {8, 8}, 3);  // 128
  m.add("norm", DType::kF32, {8}, 4);           // 32
  m.add("big", DType::kF64, {100}, 5);          // 800: larger than a shard
  return m;
}

TEST(SafetensorsSharded, WritesShardsAndReadsThemLazily) {
  TempDir tmp;
  Owned m = small_model();
  const auto tensors = m.finish();
  const auto result = write_sharded_safetensors(tmp.path(), tensors, 600, {{"format", "pt"}});
  ASSERT_EQ(result.shards.size(), 3u);  // {embed}, {layer.0, layer.1, norm}, {big}
  EXPECT_EQ(result.shards[0].filename(), "model-00001-of-00003.safetensors");
  EXPECT_EQ(result.index.filename(), "model.safetensors.index.json");
  EXPECT_EQ(result.total_size, 512u + 128 + 128 + 32 + 800);

  const auto reader = ShardedSafetensors::open(tmp.path());
  EXPECT_EQ(reader.loaded_shards(), 0u);
  EXPECT_EQ(reader.total_size(), result.total_size);
  EXPECT_EQ(reader.names(),
            (std::vector<std::string>{"big", "embed", "layer.0.w", "layer.1.w", "norm"}));
  EXPECT_EQ(reader.shard_of("norm").filename(), "model-00002-of-00003.safetensors");
  const auto norm = reader.tensor("norm");
  EXPECT_EQ(reader.loaded_shards(), 1u);
  EXPECT_EQ(test::crc32_of(norm.data), test::crc32_of(tensors[3].data));
  (void)reader.tensor("layer.0.w");
  EXPECT_EQ(reader.loaded_shards(), 1u);
  reader.load_all();
  EXPECT_EQ(reader.loaded_shards(), 3u);
  for (const auto& t : tensors) {
    const auto v = reader.tensor(t.name);
    EXPECT_EQ(v.dtype, t.dtype);
    EXPECT_EQ(v.shape, t.shape);
    EXPECT_TRUE(std::equal(v.data.begin(), v.data.end(), t.data.begin(), t.data.end())) << t.name;
  }
  EXPECT_FORMAT_ERROR((void)reader.tensor("nope"), "nope");

  // Re-saving in one shard replaces the index; the folder then reads as one file.
  const auto single = write_sharded_safetensors(tmp.path(), tensors, 1 << 20);
  EXPECT_TRUE(single.index.empty());
  EXPECT_FALSE(fs::exists(tmp / "model.safetensors.index.json"));
  const auto one = ShardedSafetensors::open(tmp.path());
  EXPECT_EQ(one.names().size(), 5u);
  EXPECT_EQ(one.shard_files().size(), 1u);
  // And sharded again: the stale single file is removed.
  (void)write_sharded_safetensors(tmp.path(), tensors, 600);
  EXPECT_FALSE(fs::exists(tmp / "model.safetensors"));
}

TEST(SafetensorsSharded, PythonReadsOurShards) {
  SELLER_PYTHON_OR_SKIP(python, "safetensors, torch");
  TempDir tmp;
  Owned m = small_model();
  const auto tensors = m.finish();
  const auto result = write_sharded_safetensors(tmp.path(), tensors, 600, {{"format", "pt"}});
  const json theirs = test::run_oracle(python, "sharded " + test::quote(result.index));
  ASSERT_FALSE(theirs.is_null());
  const auto reader = ShardedSafetensors::open(result.index);
  for (const auto& name : reader.names()) {
    EXPECT_EQ(test::describe_tensor(reader.tensor(name)), theirs["tensors"][name]) << name;
  }
  EXPECT_EQ(theirs["tensors"].size(), tensors.size());
  EXPECT_EQ(theirs["metadata"]["total_size"], result.total_size);
}

class ShardedErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    m_ = small_model();
    tensors_ = m_.finish();
    result_ = write_sharded_safetensors(tmp_.path(), tensors_, 600);
    index_ = json::parse(testing::read_file(result_.index));
  }
  void write_index(const std::string& text) { write_file(result_.index, text); }
  void write_index(const json& j) { write_index(j.dump()); }

  TempDir tmp_;
  Owned m_;
  std::span<const TensorView> tensors_;
  ShardedWriteResult result_;
  json index_;
};

TEST_F(ShardedErrors, MissingShard) {
  fs::remove(result_.shards[2]);
  EXPECT_FORMAT_ERROR((void)ShardedSafetensors::open(result_.index),
                      "model-00003-of-00003.safetensors", "missing", "big");
}

TEST_F(ShardedErrors, TensorClaimedTwiceInIndex) {
  std::string text = index_.dump();
  const std::string needle = "\"weight_map\":{";
  text.insert(text.find(needle) + needle.size(), "\"norm\":\"model-00001-of-00003.safetensors\",");
  write_index(text);
  EXPECT_FORMAT_ERROR((void)ShardedSafetensors::open(result_.index), "norm", "repeats");
}

TEST_F(ShardedErrors, TensorInTwoShards) {
  // Shard 1 also stores "norm", which the index assigns to shard 2.
  std::vector<TensorView> first = {tensors_[0], tensors_[3]};
  write_safetensors(result_.shards[0], first);
  const auto reader = ShardedSafetensors::open(result_.index);
  EXPECT_FORMAT_ERROR((void)reader.tensor("embed"), "norm", "model-00001-of-00003.safetensors",
                      "model-00002-of-00003.safetensors");
}

TEST_F(ShardedErrors, ShardHoldsTensorNotInIndex) {
  index_["weight_map"].erase("layer.1.w");
  write_index(index_);
  const auto reader = ShardedSafetensors::open(result_.index);
  EXPECT_NO_THROW((void)reader.tensor("embed"));
  EXPECT_FORMAT_ERROR((void)reader.tensor("norm"), "layer.1.w", "does not list");
}

TEST_F(ShardedErrors, IndexListsTensorAbsentFromShard) {
  index_["weight_map"]["ghost"] = "model-00002-of-00003.safetensors";
  write_index(index_);
  const auto reader = ShardedSafetensors::open(result_.index);
  EXPECT_FORMAT_ERROR((void)reader.tensor("norm"), "ghost", "does not hold");
  EXPECT_FORMAT_ERROR(reader.load_all(), "ghost");
}

TEST_F(ShardedErrors, BadIndexDocuments) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "not a JSON object"},
      {"{}", "weight_map"},
      {R"({"weight_map": []})", "weight_map"},
      {R"({"weight_map": {"a": 3}})", "not a file name"},
      {R"({"weight_map": {"a": "../model-00001-of-00003.safetensors"}})", "plain file name"},
      {R"({"weight_map": {"a": "/etc/passwd"}})", "plain file name"},
      {R"({"weight_map": {"a": ".."}})", "plain file name"},
      {R"({"metadata": {"total_size": -1}, "weight_map": {}})", "total_size"},
      {R"({"weight_map": {"a": "x.safetensors"})", "not valid JSON"},
      {"{\"weight_map\": {\"a\xff\": \"x\"}}", "not valid JSON"},
  };
  for (const auto& [text, part] : cases) {
    write_index(text);
    EXPECT_FORMAT_ERROR((void)ShardedSafetensors::open(result_.index), part, "index.json");
  }
  fs::remove(result_.index);
  fs::remove_all(tmp_.path());
  fs::create_directories(tmp_.path());
  EXPECT_FORMAT_ERROR((void)ShardedSafetensors::open(tmp_.path()), "neither");
}

}  // namespace
}  // namespace seller::io
