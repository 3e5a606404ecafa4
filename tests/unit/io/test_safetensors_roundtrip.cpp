// Our writer against the reference: byte layout (a vector from the reference's own test suite),
// files we write load in the Python `safetensors` package with identical values and re-save to
// identical bytes, files it writes load in our reader with identical values; every dtype,
// 0-d and empty tensors; writer input checks and atomic replacement.
#include <gtest/gtest.h>

#include <cstring>
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
using seller::testing::read_file;
using seller::testing::TempDir;

using test::Owned;

// One tensor of every dtype in a few shapes, including 0-d and empty ones.
Owned every_dtype() {
  Owned m;
  uint32_t seed = 1;
  for (DType d : kAllDTypes) {
    const std::string name(dtype_name(d));
    m.add("t." + name + ".matrix", d, {3, 5}, seed++);
    m.add("t." + name + ".scalar", d, {}, seed++);
    m.add("t." + name + ".empty", d, {0, 4}, seed++);
    m.add("t." + name + ".odd", d, {7}, seed++);
  }
  return m;
}

TEST(SafetensorsWriter, MatchesReferenceBytes) {
  // huggingface/safetensors tests: test_serialization ("attn.0", F32 [1,2,3], values 0..5).
  TempDir tmp;
  std::vector<float> values = {0, 1, 2, 3, 4, 5};
  const TensorView t{"attn.0", DType::kF32, {1, 2, 3}, std::as_bytes(std::span(values))};
  write_safetensors(tmp / "a.safetensors", std::span(&t, 1));
  const std::string header = R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
  std::string expected("\x40\0\0\0\0\0\0\0", 8);
  expected += header;
  expected.append(reinterpret_cast<const char*>(values.data()), 24);
  EXPECT_EQ(read_file(tmp / "a.safetensors"), expected);

  // test_empty with metadata: padded with spaces to a multiple of 8.
  write_safetensors(tmp / "e.safetensors", {}, {{"framework", "pt"}});
  EXPECT_EQ(
      read_file(tmp / "e.safetensors"),
      std::string("\x28\0\0\0\0\0\0\0", 8) + R"({"__metadata__":{"framework":"pt"}})" + "     ");
  write_safetensors(tmp / "n.safetensors", {});
  EXPECT_EQ(read_file(tmp / "n.safetensors"), std::string("\x08\0\0\0\0\0\0\0", 8) + "{}      ");
}

TEST(SafetensorsWriter, OrdersByAlignmentThenNameSoEveryTensorIsAligned) {
  TempDir tmp;
  Owned m = every_dtype();
  const auto tensors = m.finish();
  write_safetensors(tmp / "all.safetensors", tensors, {{"format", "pt"}, {"b", "2"}});
  const auto file = SafetensorsFile::open(tmp / "all.safetensors");
  EXPECT_EQ(file.header().header_bytes % 8, 0u);
  ASSERT_EQ(file.size(), tensors.size());
  size_t previous_size = 8;
  for (const auto& t : file.tensors()) {
    EXPECT_TRUE(t.aligned()) << t.name;
    EXPECT_LE(dtype_size(t.dtype), previous_size) << t.name;
    previous_size = dtype_size(t.dtype);
  }
  for (const auto& t : tensors) {
    const auto v = file.tensor(t.name);
    EXPECT_EQ(v.dtype, t.dtype);
    EXPECT_EQ(v.shape, t.shape);
    EXPECT_TRUE(std::equal(v.data.begin(), v.data.end(), t.data.begin(), t.data.end())) << t.name;
  }
  EXPECT_EQ(file.metadata(), (SafetensorsMetadata{{"b", "2"}, {"format", "pt"}}));
}

TEST(SafetensorsWriter, PythonLoadsOurFileAndResavesIdenticalBytes) {
  SELLER_PYTHON_OR_SKIP(python, "safetensors, torch");
  TempDir tmp;
  Owned m = every_dtype();
  const auto tensors = m.finish();
  const fs::path ours = tmp / "ours.safetensors";
  write_safetensors(ours, tensors, {{"format", "pt"}});
  const json described = test::run_oracle(python, "describe " + test::quote(ours));
  ASSERT_FALSE(described.is_null());
  EXPECT_EQ(described, test::describe(SafetensorsFile::open(ours)));
  for (const auto& t : tensors) {
    EXPECT_EQ(described["tensors"][t.name], test::describe_tensor(t)) << t.name;
  }
  const fs::path resaved = tmp / "resaved.safetensors";
  ASSERT_FALSE(test::run_oracle(python, "resave " + test::quote(ours) + " " + test::quote(resaved))
                   .is_null());
  EXPECT_EQ(read_file(resaved), read_file(ours));
}

TEST(SafetensorsWriter, WeReadPythonFilesAndRewriteIdenticalBytes) {
  SELLER_PYTHON_OR_SKIP(python, "safetensors, torch");
  TempDir tmp;
  json spec = {{"seed", 7}, {"metadata", {{"format", "pt"}}}};
  spec["tensors"] = json::array();
  for (DType d : kAllDTypes) {
    const std::string name(dtype_name(d));
    spec["tensors"].push_back({{"name", "p." + name}, {"dtype", name}, {"shape", {2, 3, 5}}});
    spec["tensors"].push_back(
        {{"name", "p." + name + ".0d"}, {"dtype", name}, {"shape", json::array()}});
    spec["tensors"].push_back(
        {{"name", "p." + name + ".empty"}, {"dtype", name}, {"shape", {3, 0}}});
  }
  testing::write_file(tmp / "spec.json", spec.dump());
  const fs::path theirs = tmp / "theirs.safetensors";
  const json described = test::run_oracle(
      python, "write " + test::quote(tmp / "spec.json") + " " + test::quote(theirs));
  ASSERT_FALSE(described.is_null());
  const auto file = SafetensorsFile::open(theirs);
  EXPECT_EQ(test::describe(file), described);
  EXPECT_EQ(file.size(), spec["tensors"].size());
  for (const auto& t : file.tensors()) EXPECT_TRUE(t.aligned()) << t.name;

  // Byte identity needs at most one metadata key: the reference keeps metadata in a HashMap and
  // writes it in unspecified order (we sort).
  const auto views = file.tensors();
  write_safetensors(tmp / "rewritten.safetensors", views, file.metadata());
  EXPECT_EQ(read_file(tmp / "rewritten.safetensors"), read_file(theirs));
}

TEST(SafetensorsWriter, RejectsBadInput) {
  TempDir tmp;
  const fs::path path = tmp / "bad.safetensors";
  std::vector<std::byte> four(4), eight(8);
  const auto check = [&](std::vector<TensorView> tensors, std::vector<std::string> parts) {
    try {
      write_safetensors(path, tensors);
      ADD_FAILURE() << "no FormatError for " << parts.front();
    } catch (const FormatError& e) {
      for (const auto& p : parts)
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(path));
  };
  check({{"a", DType::kF32, {2}, four}}, {"'a'", "4 bytes", "2 elements"});
  check({{"a", DType::kF32, {1}, four}, {"a", DType::kF32, {1}, four}}, {"'a'", "twice"});
  check({{"__metadata__", DType::kF32, {1}, four}}, {"reserved"});
  check({{"n", DType::kU8, {-4}, four}}, {"'n'", "negative"});
  check({{"o", DType::kU8, {1LL << 40, 1LL << 40}, four}}, {"'o'", "overflow"});
  check({{std::string("bad\xff"), DType::kU8, {4}, four}}, {"UTF-8"});
  EXPECT_THROW(write_sharded_safetensors(tmp.path(), {}, 0), FormatError);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 0);
}

TEST(SafetensorsWriter, ReplacesAtomically) {
  TempDir tmp;
  const fs::path path = tmp / "m.safetensors";
  std::vector<std::byte> a(4, std::byte{1}), b(8, std::byte{2});
  write_safetensors(path, std::vector<TensorView>{{"x", DType::kF32, {1}, a}});
  const auto old_file = SafetensorsFile::open(path);  // mapping of the old file stays valid
  write_safetensors(path, std::vector<TensorView>{{"x", DType::kF64, {1}, b}});
  EXPECT_EQ(old_file.tensor("x").dtype, DType::kF32);
  EXPECT_EQ(old_file.tensor("x").data[0], std::byte{1});
  EXPECT_EQ(SafetensorsFile::open(path).tensor("x").dtype, DType::kF64);
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace seller::io
