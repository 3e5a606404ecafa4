// Tests of the Amazon 2014/2018 review reader: the three real 2018 5-core files (counts checked
// independently with Python), the 2014 shape, and fixtures for every malformed-line rule in
// fail and skip mode with exact file:line messages, CRLF, missing final newline, empty input,
// truncated gzip and folders.
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/data/reader_test_util.h"
#include "trainer/data/readers/amazon_reader.h"

namespace {

using namespace seller::data::reader_test;

Collected collect(const std::filesystem::path& path, ReadOptions options = {}) {
  return collect_records(InputFormat::kAmazon, path, options);
}

std::string error_of(const std::filesystem::path& path, ReadOptions options = {}) {
  return data_error_of([&] { collect(path, options); });
}

constexpr const char* kGood1 =
    R"({"overall": 5.0, "verified": true, "reviewTime": "09 1, 2016", "reviewerID": "A3CIUOJXQ5VDQ2", "asin": "B0000530HU", "style": {"Size:": " 7.0 oz", "Flavor:": " Classic Ice Blue"}, "reviewerName": "Shelly F", "reviewText": "As advertised. Reasonably priced", "summary": "Five Stars", "unixReviewTime": 1472688000})";
constexpr const char* kGood2014 =
    R"({"reviewerID": "A2SUAM1J3GNN3B", "asin": "0000013714", "reviewerName": "J. McDonald", "helpful": [2, 3], "reviewText": "I bought this for my husband.", "overall": 4.0, "summary": "Heavenly Highway Hymns", "unixReviewTime": 1252800000, "reviewTime": "09 13, 2009"})";
constexpr const char* kNoText =
    R"({"overall": 3, "reviewerID": "U2", "asin": "I2", "unixReviewTime": 1000, "image": ["a.jpg"], "vote": "12"})";

TEST(AmazonReader, FixtureFieldsAnd2014Shape) {
  TempDir dir;
  write_file(dir / "r.json", std::string(kGood1) + "\n" + kGood2014 + "\n" + kNoText + "\n");
  const auto c = collect(dir / "r.json");
  ASSERT_EQ(c.records.size(), 3u);
  const Record& a = c.records[0];
  EXPECT_EQ(a.user, "A3CIUOJXQ5VDQ2");
  EXPECT_EQ(a.item, "B0000530HU");
  EXPECT_EQ(a.rating, 5.0f);
  EXPECT_EQ(a.timestamp, 1472688000000);  // seconds -> milliseconds
  EXPECT_EQ(a.review, "As advertised. Reasonably priced");
  EXPECT_EQ(a.summary, "Five Stars");
  EXPECT_TRUE(a.title.empty());
  const Record& b = c.records[1];
  EXPECT_EQ(b.user, "A2SUAM1J3GNN3B");
  EXPECT_EQ(b.item, "0000013714");
  EXPECT_EQ(b.rating, 4.0f);
  EXPECT_EQ(b.timestamp, 1252800000000);
  EXPECT_EQ(b.review, "I bought this for my husband.");
  const Record& n = c.records[2];
  EXPECT_TRUE(n.review.empty());
  EXPECT_TRUE(n.summary.empty());
  EXPECT_EQ(n.rating, 3.0f);
  EXPECT_EQ(c.positions[2].line, 3u);
  EXPECT_EQ(c.positions[2].file, (dir / "r.json").string());
}

// Reference numbers from Python's json + gzip over the same files:
//   for f in files: L=[json.loads(l) for l in gzip.open(f)]; len(L), len({reviewerID}),
//   len({asin}), sum(overall), sum(unixReviewTime), sum('reviewText' not in d)
struct RealFile {
  const char* name;
  size_t records, users, items;
  double rating_sum;
  int64_t seconds_sum;
  size_t no_text;
  const char* first_user;
};
constexpr RealFile kRealFiles[] = {
    {"AMAZON_FASHION_5.json.gz", 3176, 406, 31, 13988.0, 4739261529600, 16, "ALJ66O1Y6SLHA"},
    {"All_Beauty_5.json.gz", 5269, 991, 85, 25143.0, 7595293449600, 5, "A3CIUOJXQ5VDQ2"},
    {"Appliances_5.json.gz", 2277, 47, 48, 10246.0, 3318523084800, 0, "A34A1UP40713F8"},
};

TEST(AmazonReader, RealFilesMatchIndependentCounts) {
  SELLER_SHARED_OR_SKIP(dir, "data/amazon2018-5core-small");
  for (const RealFile& f : kRealFiles) {
    SCOPED_TRACE(f.name);
    const auto c = collect(dir / f.name);
    std::set<std::string> users, items;
    double rating_sum = 0;
    int64_t ms_sum = 0;
    size_t no_text = 0;
    for (const Record& r : c.records) {
      users.insert(r.user);
      items.insert(r.item);
      rating_sum += r.rating;
      ms_sum += r.timestamp;
      no_text += r.review.empty();
    }
    EXPECT_EQ(c.records.size(), f.records);
    EXPECT_EQ(c.stats.records, f.records);
    EXPECT_EQ(c.stats.lines, f.records);
    EXPECT_EQ(c.stats.skipped, 0u);
    EXPECT_EQ(users.size(), f.users);
    EXPECT_EQ(items.size(), f.items);
    EXPECT_DOUBLE_EQ(rating_sum, f.rating_sum);
    EXPECT_EQ(ms_sum, f.seconds_sum * 1000);
    EXPECT_EQ(no_text, f.no_text);
    EXPECT_EQ(c.records.front().user, f.first_user);
  }
}

TEST(AmazonReader, RealFolderReadsFilesInNameOrder) {
  SELLER_SHARED_OR_SKIP(dir, "data/amazon2018-5core-small");
  const auto c = collect(dir);  // PROVENANCE.md is not a *.json[.gz] file: ignored
  EXPECT_EQ(c.records.size(), 3176u + 5269u + 2277u);
  EXPECT_EQ(c.positions.front().file, (dir / "AMAZON_FASHION_5.json.gz").string());
  EXPECT_EQ(c.positions.back().file, (dir / "Appliances_5.json.gz").string());
  EXPECT_EQ(c.positions.back().line, 2277u);
}

TEST(AmazonReader, MalformedLinesFailWithFileAndLine) {
  TempDir dir;
  const struct {
    std::string line, reason;
  } cases[] = {
      {R"({"reviewerID": "U", "asin": "I", "overall": "abc"})",
       "'overall' must be a number, got string"},
      {R"({"asin": "I", "overall": 5})", "missing or empty 'reviewerID'"},
      {R"({"reviewerID": "U", "overall": 5})", "missing or empty 'asin'"},
      {R"({"reviewerID": "", "asin": "I"})", "missing or empty 'reviewerID'"},
      {R"({"reviewerID": "U", "asin": "I", "unixReviewTime": "yesterday"})",
       "'unixReviewTime' must be an integer, got string"},
      {R"({"reviewerID": "U", "asin": "I", "unixReviewTime": 99999999999999999})",
       "'unixReviewTime' is out of range: 99999999999999999"},
      {R"({"reviewerID": "U", "asin": {"x": 1}})", "'asin' must be a string, got object"},
      {R"({"reviewerID": "U", "asin": "I", "reviewText": 5})",
       "'reviewText' must be a string, got number"},
      {R"("just a string")", "expected a JSON object, got string"},
      {R"({"reviewerID": "U", "asin": "I")", "invalid JSON at byte"},
      {"\x01garbage", "invalid JSON at byte 1"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    write_file(dir / "bad.json", std::string(kGood1) + "\n" + kNoText + "\n" + c.line + "\n");
    const std::string want = (dir / "bad.json").string() + ":3: " + c.reason;
    const std::string got = error_of(dir / "bad.json");
    EXPECT_EQ(got.substr(0, want.size()), want);
  }
}

TEST(AmazonReader, SkipModeCountsAndKeepsFiveExamples) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 8; ++i) text += std::string(kGood1) + "\n{broken\n";
  write_file(dir / "skip.json.gz", text);
  const auto c = collect(dir / "skip.json.gz", ReadOptions{.skip_malformed = true});
  EXPECT_EQ(c.records.size(), 8u);
  EXPECT_EQ(c.stats.skipped, 8u);
  EXPECT_EQ(c.stats.lines, 16u);
  ASSERT_EQ(c.stats.skipped_examples.size(), 5u);
  EXPECT_EQ(c.stats.skipped_examples[0].rfind((dir / "skip.json.gz").string() + ":2: ", 0), 0u)
      << c.stats.skipped_examples[0];
  EXPECT_EQ(c.stats.skipped_examples[4].rfind((dir / "skip.json.gz").string() + ":10: ", 0), 0u)
      << c.stats.skipped_examples[4];
  // Fail mode stops at the first one.
  EXPECT_EQ(error_of(dir / "skip.json.gz").rfind((dir / "skip.json.gz").string() + ":2: ", 0), 0u);
}

TEST(AmazonReader, CrlfBlankLinesAndNoFinalNewline) {
  TempDir dir;
  write_file(dir / "crlf.json", std::string(kGood1) + "\r\n\r\n" + kGood2014 + "\r\n" + kNoText);
  const auto c = collect(dir / "crlf.json");
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.positions[1].line, 3u);
  EXPECT_EQ(c.positions[2].line, 4u);
  EXPECT_EQ(c.records[2].item, "I2");
  EXPECT_EQ(c.stats.lines, 4u);
}

TEST(AmazonReader, EmptyInputsAreErrorsNamingThePath) {
  TempDir dir;
  write_file(dir / "empty.json.gz", "");
  EXPECT_EQ(error_of(dir / "empty.json.gz"),
            (dir / "empty.json.gz").string() + ": empty input: no records in 0 lines");
  write_file(dir / "allbad.json", "{\n{\n");
  EXPECT_EQ(error_of(dir / "allbad.json", ReadOptions{.skip_malformed = true}),
            (dir / "allbad.json").string() +
                ": empty input: no records in 2 lines (2 skipped as malformed)");
  std::filesystem::create_directories(dir / "nofiles");
  write_file(dir / "nofiles" / "README.md", "x");
  EXPECT_NE(error_of(dir / "nofiles").find("nofiles: no input files"), std::string::npos);
}

TEST(AmazonReader, TruncatedGzipIsAnErrorEvenInSkipMode) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += std::string(kGood1) + "\n";
  write_file(dir / "full.json.gz", text);
  const std::string gz = seller::testing::read_file(dir / "full.json.gz");
  std::filesystem::create_directories(dir / "cut");
  {
    std::ofstream out(dir / "cut" / "x.json.gz", std::ios::binary);
    out << gz.substr(0, gz.size() * 2 / 3);
  }
  const std::string message =
      error_of(dir / "cut" / "x.json.gz", ReadOptions{.skip_malformed = true});
  EXPECT_NE(message.find("x.json.gz: truncated gzip"), std::string::npos) << message;
}

TEST(AmazonReader, FolderOrderAndLinePositions) {
  TempDir dir;
  write_file(dir / "b.json", std::string(kGood2014) + "\n");
  write_file(dir / "a.json.gz", std::string(kGood1) + "\n" + kNoText + "\n");
  write_file(dir / "c.txt", "not read\n");
  const auto c = collect(dir.path());
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.positions[0].file, (dir / "a.json.gz").string());
  EXPECT_EQ(c.positions[1].line, 2u);
  EXPECT_EQ(c.positions[2].file, (dir / "b.json").string());
  EXPECT_EQ(c.positions[2].line, 1u);
}

}  // namespace
