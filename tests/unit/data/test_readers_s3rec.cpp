// Tests of the S3-Rec / P5 sequence reader: the three real benchmark files with the published
// counts (distinct users / items / interactions, also recomputed with Python), attributes, and
// malformed lines.
#include <set>
#include <string>
#include <vector>

#include "tests/unit/data/reader_test_util.h"
#include "trainer/data/readers/s3rec_reader.h"

namespace {

using namespace seller::data::reader_test;

struct Counts {
  size_t users = 0, items = 0, records = 0, with_category = 0;
  ReadStats stats;
};

Counts count(const std::filesystem::path& path, ReadOptions options = {}) {
  Counts c;
  std::set<std::string> users, items;
  c.stats = seller::data::read_records(InputFormat::kS3Rec, path, options,
                                       [&](const Record& r, const SourcePosition&) {
                                         users.insert(r.user);
                                         items.insert(r.item);
                                         EXPECT_FALSE(r.has_timestamp());
                                         c.with_category += !r.category.empty();
                                         ++c.records;
                                       });
  c.users = users.size();
  c.items = items.size();
  return c;
}

// Published in the S3-Rec / P5 papers and shared/data/p5-s3rec-sequential/PROVENANCE.md;
// recomputed with Python: U=set(first token), I=set(other tokens), R=sum(len(tokens)-1).
TEST(S3RecReader, RealFilesHaveThePublishedCounts) {
  SELLER_SHARED_OR_SKIP(dir, "data/p5-s3rec-sequential/s3rec");
  const struct {
    const char* name;
    size_t users, items, records;
  } files[] = {{"Beauty.txt", 22363, 12101, 198502},
               {"Sports_and_Outdoors.txt", 35598, 18357, 296337},
               {"Toys_and_Games.txt", 19412, 11924, 167597}};
  for (const auto& f : files) {
    SCOPED_TRACE(f.name);
    const Counts c = count(dir / f.name);
    EXPECT_EQ(c.users, f.users);
    EXPECT_EQ(c.items, f.items);
    EXPECT_EQ(c.records, f.records);
    EXPECT_EQ(c.stats.records, f.records);
    EXPECT_EQ(c.stats.lines, f.users);
    EXPECT_GT(c.with_category, 0u);  // the _item2attributes.json beside it was used
  }
}

TEST(S3RecReader, OrderIdsAndAttributes) {
  TempDir dir;
  write_file(dir / "Toy.txt", "1 3 2 3\r\n\n2\t007 1\n10 4");
  write_file(dir / "Toy_item2attributes.json", R"({"3": [5, 6], "1": [], "7": [9]})");
  std::vector<Record> records;
  std::vector<uint64_t> lines;
  seller::data::read_records(InputFormat::kS3Rec, dir / "Toy.txt", {},
                             [&](const Record& r, const SourcePosition& p) {
                               records.push_back(r);
                               lines.push_back(p.line);
                             });
  ASSERT_EQ(records.size(), 6u);
  const std::vector<std::string> items{"3", "2", "3", "7", "1", "4"};
  const std::vector<std::string> users{"1", "1", "1", "2", "2", "10"};
  const std::vector<std::string> cats{"5,6", "", "5,6", "9", "", ""};
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].item, items[i]) << i;
    EXPECT_EQ(records[i].user, users[i]) << i;
    EXPECT_EQ(records[i].category, cats[i]) << i;
  }
  EXPECT_EQ(lines, (std::vector<uint64_t>{1, 1, 1, 3, 3, 4}));
}

TEST(S3RecReader, MalformedLines) {
  TempDir dir;
  const struct {
    std::string line, reason;
  } cases[] = {
      {"1 2 x", "item id must be a non-negative integer, got 'x' (token 3)"},
      {"u1 2 3", "user id must be a non-negative integer, got 'u1' (token 1)"},
      {"1 -2", "item id must be a non-negative integer, got '-2' (token 2)"},
      {"1 2.5", "item id must be a non-negative integer, got '2.5' (token 2)"},
      {"1 99999999999999999999999", "item id must be a non-negative integer"},
      {"5", "user 5 has no items"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    write_file(dir / "s.txt", "1 2 3\n" + c.line + "\n4 5\n");
    try {
      count(dir / "s.txt");
      ADD_FAILURE() << "expected DataError";
    } catch (const DataError& e) {
      const std::string want = (dir / "s.txt").string() + ":2: " + c.reason;
      EXPECT_EQ(std::string(e.what()).substr(0, want.size()), want);
    }
    const Counts skipped = count(dir / "s.txt", ReadOptions{.skip_malformed = true});
    EXPECT_EQ(skipped.records, 3u);
    EXPECT_EQ(skipped.stats.skipped, 1u);
  }
}

TEST(S3RecReader, BadAttributesFileNamesIt) {
  TempDir dir;
  write_file(dir / "A.txt", "1 2\n");
  write_file(dir / "A_item2attributes.json", "{\"2\": [1, ");
  try {
    count(dir / "A.txt");
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("A_item2attributes.json: invalid JSON"), std::string::npos)
        << e.what();
  }
}

TEST(S3RecReader, FolderAndEmptyFileAreErrors) {
  TempDir dir;
  write_file(dir / "e.txt", "");
  EXPECT_THROW(count(dir / "e.txt"), DataError);
  EXPECT_THROW(count(dir.path()), DataError);
}

}  // namespace
