// Dataset reader: what prepare wrote reads back, and a damaged folder (flipped byte, truncated or
// missing shard, foreign shard, bad or newer manifest) is a clear error at open, not UB later.
#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_support.h"
#include "tests/unit/data/test_prepare_fixture.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"

namespace seller::data {
namespace {
namespace fs = std::filesystem;
using seller::testing::read_file;
using seller::testing::TempDir;
using seller::testing::write_file;
using test::rec;
using test::source_of;

std::vector<Record> fixture() {
  std::vector<Record> in;
  for (int u = 0; u < 40; ++u) {
    for (int k = 0; k < 6; ++k) {
      Record r = rec("user-" + std::to_string(u), "item-" + std::to_string((u * 7 + k) % 50),
                     1000 * k + u, "review " + std::to_string(u) + "/" + std::to_string(k),
                     static_cast<float>(k % 5 + 1));
      r.title = "Title " + r.item;
      in.push_back(std::move(r));
    }
  }
  return in;
}

fs::path prepare_fixture(const TempDir& tmp, uint64_t shard_bytes = 2048) {
  static const std::vector<Record> in = fixture();
  PrepareOptions o;
  o.shard_bytes = shard_bytes;
  o.source_format = "fixture";
  o.source_files = {"a.json", "b.json"};
  prepare_dataset(source_of(in), o, tmp / "ds");
  return tmp / "ds";
}

TEST(Dataset, ReadsBackEverything) {
  TempDir tmp;
  const fs::path dir = prepare_fixture(tmp);
  Dataset d = Dataset::open(dir);
  EXPECT_EQ(d.num_users(), 40u);
  EXPECT_EQ(d.num_items(), 50u);
  EXPECT_EQ(d.num_interactions(), 240u);
  EXPECT_GT(d.num_shards(), 3u);
  EXPECT_EQ(d.source_format(), "fixture");
  EXPECT_EQ(d.source_files(), (std::vector<std::string>{"a.json", "b.json"}));
  EXPECT_EQ(d.stats().input_records, 240u);
  uint64_t offset = 0;
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    EXPECT_EQ(d.user_id(u), "user-" + std::to_string(u));
    ASSERT_EQ(d.history(u).size(), 6u);
    EXPECT_EQ(d.interaction_offset(u), offset);
    offset += 6;
    for (size_t k = 0; k < 6; ++k) {
      const uint32_t item = d.history(u)[k];
      EXPECT_EQ(d.item_id(item), "item-" + std::to_string((u * 7 + k) % 50));
      EXPECT_EQ(d.item_title(item), "Title " + std::string(d.item_id(item)));
      EXPECT_EQ(d.timestamps(u)[k], static_cast<int64_t>(1000 * k + u));
      EXPECT_EQ(d.ratings(u)[k], static_cast<float>(k % 5 + 1));
      EXPECT_EQ(d.review(u, k), "review " + std::to_string(u) + "/" + std::to_string(k));
    }
    EXPECT_EQ(d.split(u, 5), SplitTag::kTest);
    EXPECT_EQ(d.split(u, 4), SplitTag::kValid);
  }
  EXPECT_EQ(d.interaction_offset(d.num_users()), 240u);
  EXPECT_THROW(d.history(40), Error);  // internal check, not UB
}

std::vector<fs::path> shards(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().starts_with("interactions-")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void flip(const fs::path& p, uint64_t pos) {
  std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(pos));
  char c = 0;
  f.read(&c, 1);
  c = static_cast<char>(c ^ 0x40);
  f.seekp(static_cast<std::streamoff>(pos));
  f.write(&c, 1);
}

void expect_error_naming(const fs::path& dir, const std::string& needle, bool verify = true) {
  try {
    Dataset::open(dir, verify);
    FAIL() << "no error, expected one naming " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Dataset, CorruptedShardIsFormatError) {
  TempDir tmp;
  const fs::path dir = prepare_fixture(tmp);
  const fs::path shard = shards(dir)[1];
  const uint64_t size = fs::file_size(shard);
  flip(shard, size - 3);  // a text byte
  EXPECT_THROW(Dataset::open(dir), FormatError);
  expect_error_naming(dir, shard.filename().string());
  EXPECT_NO_THROW(Dataset::open(dir, /*verify_checksums=*/false));  // structure still sound
  flip(shard, size - 3);
  EXPECT_NO_THROW(Dataset::open(dir));
  flip(shard, 70);  // the section table
  expect_error_naming(dir, "header checksum", false);
}

TEST(Dataset, TruncatedMissingAndForeignShards) {
  TempDir tmp;
  const fs::path dir = prepare_fixture(tmp);
  const fs::path shard = shards(dir)[0];
  const std::string bytes = read_file(shard);
  for (size_t len : {size_t{0}, size_t{10}, size_t{64}, size_t{200}, bytes.size() - 1}) {
    write_file(shard, bytes.substr(0, len));
    EXPECT_THROW(Dataset::open(dir, false), FormatError) << len;
  }
  fs::remove(shard);
  EXPECT_THROW(Dataset::open(dir), DataError);
  // The first shard of a dataset prepared with other options: valid file, wrong dataset.
  TempDir other;
  const fs::path other_dir = prepare_fixture(other, 1 << 20);
  fs::copy_file(shards(other_dir)[0], shard);
  expect_error_naming(dir, "differs from the manifest");
}

TEST(Dataset, BadManifests) {
  TempDir tmp;
  const fs::path dir = prepare_fixture(tmp);
  const std::string manifest = read_file(dir / "manifest.json");
  write_file(dir / "manifest.json", "{not json");
  expect_error_naming(dir, "malformed manifest");
  write_file(dir / "manifest.json", "{}");
  EXPECT_THROW(Dataset::open(dir), FormatError);
  std::string newer = manifest;
  newer.replace(newer.find("\"format_version\": 1"), 19, "\"format_version\": 9");
  write_file(dir / "manifest.json", newer);
  expect_error_naming(dir, "dataset format version 9, this build reads version 1");
  std::string wrong_count = manifest;
  wrong_count.replace(wrong_count.find("\"interactions\": 240"), 19, "\"interactions\": 241");
  write_file(dir / "manifest.json", wrong_count);
  EXPECT_THROW(Dataset::open(dir), FormatError);
  fs::remove(dir / "manifest.json");
  EXPECT_THROW(Dataset::open(dir), DataError);
  EXPECT_THROW(Dataset::open(tmp / "nope"), DataError);
}

}  // namespace
}  // namespace seller::data
