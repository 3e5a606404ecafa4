// Section file format: round trip, and every way a file can be damaged (truncation at many
// lengths, flipped bytes in header and data, wrong magic, newer version) gives a FormatError
// that names the file, never a crash.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <numeric>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/data/shard/section_file.h"
#include "trainer/data/shard/section_writer.h"

namespace seller::data::shard {
namespace {
namespace fs = std::filesystem;
using seller::testing::TempDir;

std::vector<char> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}
void write_bytes(const fs::path& p, const std::vector<char>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file with a few sections of different types, including an empty one.
void write_sample(const fs::path& path) {
  SectionWriter w(path, "test-kind", 5);
  std::vector<uint32_t> a(1000);
  std::iota(a.begin(), a.end(), 7u);
  w.section("a", a);
  std::vector<int64_t> b = {-1, 0, 1, INT64_MIN, INT64_MAX};
  w.section("b", b);
  w.begin_section("text", ElementType::kU8);
  w.append_bytes("hello ", 6);
  w.append_bytes("world", 5);
  w.end_section();
  w.section("empty", std::vector<float>{});
  w.section("f", std::vector<float>{1.5f, -2.25f});
  w.finish();
}

TEST(SectionFile, RoundTrip) {
  TempDir tmp;
  const fs::path path = tmp / "x.sf";
  write_sample(path);
  EXPECT_FALSE(fs::exists(path.string() + ".tmp-" + std::to_string(::getpid())));
  SectionFile f = SectionFile::open(path, {.verify_checksums = true, .expected_kind = "test-kind"});
  EXPECT_EQ(f.kind(), "test-kind");
  EXPECT_EQ(f.version(), kFormatVersion);
  ASSERT_EQ(f.sections().size(), 5u);
  auto a = f.get<uint32_t>("a");
  ASSERT_EQ(a.size(), 1000u);
  EXPECT_EQ(a[0], 7u);
  EXPECT_EQ(a[999], 1006u);
  auto b = f.get<int64_t>("b");
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(b[3], INT64_MIN);
  EXPECT_EQ(f.text("text"), "hello world");
  EXPECT_TRUE(f.get<float>("empty").empty());
  EXPECT_EQ(f.get<float>("f")[1], -2.25f);
  for (const SectionInfo& s : f.sections()) EXPECT_EQ(s.offset % kAlignment, 0u) << s.name;
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % kAlignment, 0u);
  // Wrong type, missing section, wrong kind: FormatError naming the file.
  EXPECT_THROW(f.get<uint64_t>("a"), FormatError);
  EXPECT_THROW(f.get<uint32_t>("nope"), FormatError);
  EXPECT_THROW(SectionFile::open(path, {.expected_kind = "items"}), FormatError);
}

TEST(SectionFile, MissingFileIsDataError) {
  TempDir tmp;
  EXPECT_THROW(SectionFile::open(tmp / "missing.sf"), DataError);
}

void expect_format_error(const fs::path& path, const std::string& needle, bool verify = true) {
  try {
    OpenOptions options;
    options.verify_checksums = verify;
    SectionFile::open(path, options);
    FAIL() << "no error for " << needle;
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    if (!needle.empty()) {
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    }
  }
}

TEST(SectionFile, TruncatedAtEveryLengthIsFormatError) {
  TempDir tmp;
  const fs::path good = tmp / "good.sf";
  write_sample(good);
  const std::vector<char> bytes = read_bytes(good);
  const fs::path bad = tmp / "bad.sf";
  for (size_t len = 0; len < bytes.size(); len += (len < 512 ? 1 : 61)) {
    write_bytes(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(len)));
    expect_format_error(bad, "");
    expect_format_error(bad, "", /*verify=*/false);
  }
  write_bytes(bad, std::vector<char>(bytes.begin(), bytes.end() - 1));
  expect_format_error(bad, "truncated");
  std::vector<char> longer = bytes;
  longer.push_back('x');
  write_bytes(bad, longer);
  expect_format_error(bad, "does not match");
}

TEST(SectionFile, FlippedByteAnywhereIsDetected) {
  TempDir tmp;
  const fs::path good = tmp / "good.sf";
  write_sample(good);
  const std::vector<char> bytes = read_bytes(good);
  SectionFile ref = SectionFile::open(good);
  const uint64_t header_size = 64 + 64 * ref.sections().size();
  // Flips are checked in memory (parse) for speed; a few go through real files too.
  std::vector<uint64_t> storage(bytes.size() / 8 + 16);
  auto* base = reinterpret_cast<std::byte*>(storage.data());
  base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;
  int checked = 0;
  for (size_t pos = 0; pos < bytes.size(); ++pos) {
    std::memcpy(base, bytes.data(), bytes.size());
    base[pos] ^= std::byte{0x5a};
    try {
      SectionFile::parse({base, bytes.size()}, "flipped.sf");
      ADD_FAILURE() << "flip at " << pos << " not detected";
    } catch (const FormatError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind("flipped.sf: ", 0), 0u) << msg;
      if (pos >= header_size) {
        const bool named = msg.find("checksum mismatch") != std::string::npos ||
                           msg.find("padding") != std::string::npos;
        EXPECT_TRUE(named) << msg;
      }
    }
    ++checked;
  }
  const fs::path bad = tmp / "bad.sf";
  for (size_t pos : {size_t{3}, size_t{20}, size_t{100}, bytes.size() - 2}) {
    std::vector<char> copy = bytes;
    copy[pos] = static_cast<char>(copy[pos] ^ 0x5a);
    write_bytes(bad, copy);
    expect_format_error(bad, "");
  }
  EXPECT_GT(checked, 4000);
  // Without checksum verification, a flipped data byte is not an error (but the header still is).
  std::vector<char> copy = bytes;
  copy[bytes.size() - 1] ^= 1;
  write_bytes(bad, copy);
  OpenOptions no_verify;
  no_verify.verify_checksums = false;
  EXPECT_NO_THROW(SectionFile::open(bad, no_verify));
  EXPECT_THROW(SectionFile::open(bad).verify_checksums(), FormatError);
}

TEST(SectionFile, WrongMagic) {
  TempDir tmp;
  const fs::path path = tmp / "m.sf";
  write_sample(path);
  std::vector<char> bytes = read_bytes(path);
  bytes[0] = 'X';
  write_bytes(path, bytes);
  expect_format_error(path, "not a seller section file");
  write_bytes(path, std::vector<char>(100, 'a'));
  expect_format_error(path, "magic");
}

// Rewrites the version and fixes the header crc, as a newer writer would have produced it.
TEST(SectionFile, NewerVersionNamesBothVersions) {
  TempDir tmp;
  const fs::path path = tmp / "v.sf";
  write_sample(path);
  std::vector<char> bytes = read_bytes(path);
  FileHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  h.version = kFormatVersion + 1;
  h.header_crc32 = 0;
  std::memcpy(bytes.data(), &h, sizeof h);
  const uint32_t crc = crc32_update(0, bytes.data(), h.header_size);
  std::memcpy(bytes.data() + kHeaderCrcOffset, &crc, 4);
  write_bytes(path, bytes);
  try {
    SectionFile::open(path);
    FAIL();
  } catch (const FormatError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("format version 2"), std::string::npos) << msg;
    EXPECT_NE(msg.find("reads version 1"), std::string::npos) << msg;
  }
}

TEST(SectionFile, ParseFromAlignedMemory) {
  TempDir tmp;
  const fs::path path = tmp / "p.sf";
  write_sample(path);
  const std::vector<char> bytes = read_bytes(path);
  std::vector<uint64_t> storage((bytes.size() + 63) / 8 + 8);
  auto* base = reinterpret_cast<std::byte*>(storage.data());
  base += (64 - reinterpret_cast<uintptr_t>(base) % 64) % 64;
  std::memcpy(base, bytes.data(), bytes.size());
  SectionFile f = SectionFile::parse({base, bytes.size()}, "memory");
  EXPECT_EQ(f.text("text"), "hello world");
}

}  // namespace
}  // namespace seller::data::shard
