// Atomic outputs: nothing appears under the final name before commit, an abandoned writer leaves
// no temporary behind, and an existing destination is replaced only at commit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"
#include "trainer/io/mmap_file.h"

namespace seller::io {
namespace {
namespace fs = std::filesystem;
using seller::testing::read_file;
using seller::testing::TempDir;
using seller::testing::write_file;

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(AtomicFile, CommitRenamesIntoPlace) {
  TempDir tmp;
  const fs::path path = tmp / "out.txt";
  {
    AtomicFile f(path);
    f.write("hello");
    f.writer().flush();
    EXPECT_FALSE(fs::exists(path));
    EXPECT_TRUE(fs::exists(f.temp_path()));
    EXPECT_EQ(f.temp_path().parent_path(), path.parent_path());
    f.commit();
  }
  EXPECT_EQ(read_file(path), "hello");
  EXPECT_EQ(entries(tmp.path()), 1u);
}

TEST(AtomicFile, AbandonedWriterLeavesNothingAndKeepsOldFile) {
  TempDir tmp;
  const fs::path path = tmp / "out.txt";
  write_file(path, "old");
  {
    AtomicFile f(path);
    f.write(std::string(3 << 20, 'x'));  // larger than the buffer: really on disk
  }
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(entries(tmp.path()), 1u);
  write_file_atomically(path, "new");
  EXPECT_EQ(read_file(path), "new");
}

TEST(AtomicFile, WriteAtPatchesAndPadAligns) {
  TempDir tmp;
  const fs::path path = tmp / "p.bin";
  AtomicFile f(path);
  f.write("abcdef");
  f.writer().pad_to(64);
  EXPECT_EQ(f.position(), 64u);
  f.writer().write_at(1, "XY", 2);
  f.write("z");
  f.commit();
  const std::string s = read_file(path);
  ASSERT_EQ(s.size(), 65u);
  EXPECT_EQ(s.substr(0, 6), "aXYdef");
  EXPECT_EQ(s[10], '\0');
  EXPECT_EQ(s[64], 'z');
}

TEST(AtomicFile, UnwritableFolderIsDataError) {
  EXPECT_THROW(AtomicFile(fs::path("/nonexistent-seller-dir/x")), DataError);
}

TEST(AtomicDir, CommitCreatesAndReplaces) {
  TempDir tmp;
  const fs::path out = tmp / "sub" / "dataset";
  {
    AtomicDir d(out);
    EXPECT_EQ(d.path().parent_path(), out.parent_path());
    write_file(d.path() / "a.txt", "1");
    EXPECT_FALSE(fs::exists(out));
    d.commit();
  }
  EXPECT_EQ(read_file(out / "a.txt"), "1");
  {
    AtomicDir d(out);
    write_file(d.path() / "b.txt", "2");
    EXPECT_TRUE(fs::exists(out / "a.txt"));  // the old one stays until commit
    d.commit();
  }
  EXPECT_FALSE(fs::exists(out / "a.txt"));
  EXPECT_EQ(read_file(out / "b.txt"), "2");
  EXPECT_EQ(entries(tmp / "sub"), 1u);  // no temporary or old copy left
}

TEST(AtomicDir, FailureRemovesTemporaryAndKeepsOld) {
  TempDir tmp;
  const fs::path out = tmp / "dataset";
  fs::create_directory(out);
  write_file(out / "keep.txt", "old");
  try {
    AtomicDir d(out);
    write_file(d.path() / "half.bin", "partial");
    throw std::runtime_error("boom");
  } catch (const std::runtime_error&) {
  }
  EXPECT_EQ(read_file(out / "keep.txt"), "old");
  EXPECT_EQ(entries(tmp.path()), 1u);
}

TEST(MmapFile, MapsAndHandlesEmptyAndMissing) {
  TempDir tmp;
  write_file(tmp / "f", "abc");
  write_file(tmp / "e", "");
  MmapFile f = MmapFile::open(tmp / "f");
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f.chars(1, 2), "bc");
  MmapFile moved = std::move(f);
  EXPECT_EQ(moved.chars(0, 3), "abc");
  EXPECT_EQ(MmapFile::open(tmp / "e").size(), 0u);
  EXPECT_THROW(MmapFile::open(tmp / "missing"), DataError);
  EXPECT_THROW(MmapFile::open(tmp.path()), DataError);
}

}  // namespace
}  // namespace seller::io
