// Tests of the XRec folder reader: the real amazon and google folders (numbers recomputed with
// Python's csv and json modules), the date parser, the explanation join on a fixture, and
// malformed rows.
#include <set>
#include <string>
#include <vector>

#include "tests/unit/data/reader_test_util.h"
#include "trainer/data/readers/xrec_reader.h"

namespace {

using namespace seller::data::reader_test;

Collected collect(const std::filesystem::path& path, ReadOptions options = {}) {
  return collect_records(InputFormat::kXRec, path, options);
}

// Python: rows of total_{trn,val,tst}.csv that exist, then tst.jsonl pairs found in no CSV;
// titled = records whose item has a title in tst.jsonl; ts = sum over CSV rows of
// strptime(Time, '%m %d, %Y') at UTC midnight in ms.
TEST(XRecReader, RealFoldersMatchIndependentCounts) {
  SELLER_SHARED_OR_SKIP(dir, "data/xrec-test");
  const struct {
    const char* name;
    size_t records, csv_rows, titled, explained, users, items;
    int64_t ts_sum;
  } sets[] = {{"amazon", 74544, 72168, 19674, 3000, 14707, 14763, 102333255033600000},
              {"google", 411840, 411840, 108210, 3000, 22582, 16557, 0}};
  for (const auto& s : sets) {
    SCOPED_TRACE(s.name);
    const auto c = collect(dir / s.name);
    size_t titled = 0, explained = 0, timed = 0;
    int64_t ts_sum = 0;
    std::set<std::string> users, items;
    for (const Record& r : c.records) {
      titled += !r.title.empty();
      explained += !r.review.empty();
      if (r.has_timestamp()) {
        ++timed;
        ts_sum += r.timestamp;
      }
      users.insert(r.user);
      items.insert(r.item);
    }
    EXPECT_EQ(c.records.size(), s.records);
    EXPECT_EQ(titled, s.titled);
    EXPECT_EQ(explained, s.explained);
    EXPECT_EQ(users.size(), s.users);
    EXPECT_EQ(items.size(), s.items);
    EXPECT_EQ(ts_sum, s.ts_sum);
    EXPECT_EQ(timed, s.ts_sum == 0 ? 0u : s.csv_rows);
  }
}

TEST(XRecReader, RealAmazonFirstValRowAndTrailingTestPair) {
  SELLER_SHARED_OR_SKIP(dir, "data/xrec-test/amazon");
  const auto c = collect(dir);
  // total_val.csv line 2: 6417,4758,"12 5, 2015"
  EXPECT_EQ(c.records.front().user, "6417");
  EXPECT_EQ(c.records.front().item, "4758");
  EXPECT_EQ(c.records.front().timestamp, 1449273600000);
  EXPECT_EQ(c.positions.front().line, 2u);
  // First tst.jsonl pair in no CSV: uid 4748, iid 1247 ("Drums of Autumn"), tst.jsonl line 1.
  const Record& first_unmatched = c.records[72168];
  EXPECT_EQ(first_unmatched.user, "4748");
  EXPECT_EQ(first_unmatched.item, "1247");
  EXPECT_EQ(first_unmatched.title, "Drums of Autumn");
  EXPECT_FALSE(first_unmatched.has_timestamp());
  EXPECT_EQ(c.positions[72168].file, (dir / "tst.jsonl").string());
  EXPECT_EQ(c.positions[72168].line, 1u);
}

TEST(XRecReader, DateParser) {
  EXPECT_EQ(seller::data::parse_xrec_date("01 1, 1970"), 0);
  EXPECT_EQ(seller::data::parse_xrec_date("12 5, 2015"), 1449273600000);
  EXPECT_EQ(seller::data::parse_xrec_date("02 29, 2016"), 1456704000000);
  EXPECT_EQ(seller::data::parse_xrec_date("10 13, 1997"), 876700800000);
  for (const char* bad : {"02 29, 2015", "13 1, 2015", "00 1, 2015", "1 32, 2015", "12 5 2015",
                          "12 5, 15", "", "12 5, 2015 ", "ab 5, 2015"}) {
    EXPECT_THROW(seller::data::parse_xrec_date(bad), DataError) << bad;
  }
}

TEST(XRecReader, JoinOnFixture) {
  TempDir dir;
  write_file(dir / "total_trn.csv", "user,item,Time\n1,10,\"01 2, 2010\"\n2,20,\"01 3, 2010\"\n");
  write_file(dir / "total_tst.csv", "user,item,Time\r\n1,20,\"01 4, 2010\"\r\n2,20,\"01 5, 2010\"");
  write_file(
      dir / "tst.jsonl",
      R"({"row_index": 1, "uid": 2, "iid": 20, "title": "Book \"20\"", "user_summary": "u", "item_summary": "about 20", "explanation": "because 20"})"
      "\n"
      R"({"row_index": 2, "uid": 3, "iid": 30, "title": "Book 30", "user_summary": "u", "item_summary": "about 30", "explanation": "because 30"})"
      "\n");
  const auto c = collect(dir.path());
  ASSERT_EQ(c.records.size(), 5u);
  EXPECT_EQ(c.records[0].title, "");
  EXPECT_EQ(c.records[1].title, "Book \"20\"");
  EXPECT_EQ(c.records[1].description, "about 20");
  EXPECT_EQ(c.records[1].review, "because 20");  // (2,20) in trn
  EXPECT_EQ(c.records[2].review, "");            // (1,20): item text only
  EXPECT_EQ(c.records[2].title, "Book \"20\"");
  EXPECT_EQ(c.records[3].review, "because 20");  // the pair again in tst
  EXPECT_EQ(c.records[3].timestamp, seller::data::parse_xrec_date("01 5, 2010"));
  EXPECT_EQ(c.records[4].user, "3");  // unmatched test pair last
  EXPECT_EQ(c.records[4].review, "because 30");
  EXPECT_FALSE(c.records[4].has_timestamp());
  EXPECT_EQ(c.positions[4].file, (dir / "tst.jsonl").string());
  EXPECT_EQ(c.positions[4].line, 2u);
  EXPECT_EQ(c.positions[3].file, (dir / "total_tst.csv").string());
  EXPECT_EQ(c.positions[3].line, 3u);
}

TEST(XRecReader, MalformedRowsAndHeaders) {
  TempDir dir;
  write_file(dir / "a" / "total_val.csv", "user,item\n1,2\n1,x\n");
  try {
    collect(dir / "a");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "a" / "total_val.csv").string() +
                                         ":3: 'item' must be a non-negative integer, got 'x'");
  }
  EXPECT_EQ(collect(dir / "a", ReadOptions{.skip_malformed = true}).stats.skipped, 1u);
  write_file(dir / "b" / "total_val.csv", "uid,iid\n1,2\n");
  try {
    collect(dir / "b", ReadOptions{.skip_malformed = true});  // a bad header is always fatal
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("total_val.csv:1: header must name"), std::string::npos);
  }
  write_file(dir / "c" / "total_tst.csv",
             "user,item,Time\n1,2,\"02 30, 2015\"\n1,2\n3,4,\"02 28, 2015\"\n");
  write_file(dir / "c" / "tst.jsonl", R"({"uid": "1", "iid": 2})"
                                      "\n");
  const auto c = collect(dir / "c", ReadOptions{.skip_malformed = true});
  EXPECT_EQ(c.stats.skipped, 3u);
  ASSERT_EQ(c.stats.skipped_examples.size(), 3u);
  EXPECT_NE(c.stats.skipped_examples[0].find("tst.jsonl:1: 'uid' must be a non-negative integer"),
            std::string::npos);
  EXPECT_NE(c.stats.skipped_examples[1].find("total_tst.csv:2: 'Time' must be"), std::string::npos);
  EXPECT_NE(c.stats.skipped_examples[2].find("total_tst.csv:3: expected 3 fields, got 2"),
            std::string::npos);
  std::filesystem::create_directories(dir / "d");
  EXPECT_THROW(collect(dir / "d"), DataError);
}

}  // namespace
