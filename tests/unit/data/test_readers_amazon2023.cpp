// Tests of the Amazon 2023 reader: the real mini-histories folder and files (counts checked
// independently with Python), field mapping and fallbacks, the plain review shape, and
// malformed lines with exact file:line.
#include <set>
#include <string>
#include <vector>

#include "tests/unit/data/reader_test_util.h"
#include "trainer/data/readers/amazon2023_reader.h"

namespace {

using namespace seller::data::reader_test;

Collected collect(const std::filesystem::path& path, ReadOptions options = {}) {
  return collect_records(InputFormat::kAmazon2023, path, options);
}

std::string reason_of(const std::string& line) {
  std::vector<Record> out;
  return data_error_of([&] { seller::data::parse_amazon2023_line(line, out); });
}

std::string review(const std::string& asin, int64_t ts, const std::string& extra = "") {
  return R"({"parent_asin": ")" + asin + R"(", "rating": 4.0, "timestamp_ms": )" +
         std::to_string(ts) +
         R"(, "review_title": "T", "review_full": "Full text", "review_excerpt": "Excerpt", "product": {"title": "Prod )" +
         asin + R"(", "brand": null, "price": 9.99, "main_category": "All Beauty"})" + extra + "}";
}

// Python over training/validation/test.jsonl, every history review then heldout:
//   3455 records, 354 distinct user_id, 3228 distinct parent_asin, sum(timestamp_ms) =
//   5498074383857346, 74 records whose product.title is null.
TEST(Amazon2023Reader, RealFolderMatchesIndependentCounts) {
  SELLER_SHARED_OR_SKIP(dir, "data/amazon2023-mini-histories");
  const auto c = collect(dir);
  std::set<std::string> users, items;
  int64_t ts_sum = 0;
  size_t untitled = 0;
  for (const Record& r : c.records) {
    users.insert(r.user);
    items.insert(r.item);
    ts_sum += r.timestamp;
    untitled += r.title.empty();
    EXPECT_FALSE(r.category.empty());
    EXPECT_FALSE(r.review.empty());
    EXPECT_TRUE(r.has_rating());
  }
  EXPECT_EQ(c.records.size(), 3455u);
  EXPECT_EQ(c.stats.lines, 691u);
  EXPECT_EQ(users.size(), 354u);
  EXPECT_EQ(items.size(), 3228u);
  EXPECT_EQ(ts_sum, 5498074383857346);
  EXPECT_EQ(untitled, 74u);
  // training, validation, test in that order; the first line's first review first.
  EXPECT_EQ(c.positions.front().file, (dir / "training.jsonl").string());
  EXPECT_EQ(c.positions.back().file, (dir / "test.jsonl").string());
  EXPECT_EQ(c.records.front().user, "AE3KLVXGZPANXE5XLXYKHTVAZ3FQ");
  EXPECT_EQ(c.records.front().item, "B095RWJJB8");
  EXPECT_EQ(c.records.front().timestamp, 1627679830425);
  EXPECT_EQ(c.records.back().item, "B00HVBB140");
  // Within a line, history then heldout: non-decreasing time (the file is in time order).
  for (size_t i = 1; i < c.records.size(); ++i) {
    if (c.positions[i].file == c.positions[i - 1].file &&
        c.positions[i].line == c.positions[i - 1].line) {
      EXPECT_LE(c.records[i - 1].timestamp, c.records[i].timestamp);
    }
  }
}

TEST(Amazon2023Reader, RealSingleFile) {
  SELLER_SHARED_OR_SKIP(file, "data/amazon2023-mini-histories/test.jsonl");
  const auto c = collect(file);
  EXPECT_EQ(c.records.size(), 23u * 5u);
  EXPECT_EQ(c.positions[4].line, 1u);
  EXPECT_EQ(c.positions[5].line, 2u);
}

TEST(Amazon2023Reader, HistoryThenHeldoutWithFallbacks) {
  TempDir dir;
  const std::string line =
      R"({"heldout": )" + review("H", 300) + R"(, "user_id": "U1", "category": "All_Beauty", )" +
      R"("history": [)" + review("A", 100) + ", " +
      R"({"parent_asin": "B", "rating": 2, "timestamp_ms": 200, "review_title": "t2", )" +
      R"("review_full": null, "review_excerpt": "only excerpt", "product": {"title": null, "main_category": null}})" +
      "]}";
  write_file(dir / "h.jsonl", line + "\n");
  const auto c = collect(dir / "h.jsonl");
  ASSERT_EQ(c.records.size(), 3u);
  EXPECT_EQ(c.records[0].item, "A");
  EXPECT_EQ(c.records[1].item, "B");
  EXPECT_EQ(c.records[2].item, "H");  // heldout last even when its key comes first
  for (const auto& r : c.records) EXPECT_EQ(r.user, "U1");
  EXPECT_EQ(c.records[0].review, "Full text");
  EXPECT_EQ(c.records[0].summary, "T");
  EXPECT_EQ(c.records[0].title, "Prod A");
  EXPECT_EQ(c.records[0].category, "All Beauty");
  EXPECT_EQ(c.records[0].rating, 4.0f);
  EXPECT_EQ(c.records[0].timestamp, 100);
  EXPECT_EQ(c.records[1].review, "only excerpt");
  EXPECT_EQ(c.records[1].title, "");
  EXPECT_EQ(c.records[1].category, "All_Beauty");
  EXPECT_EQ(c.records[1].rating, 2.0f);
}

TEST(Amazon2023Reader, PlainReviewShape) {
  TempDir dir;
  write_file(
      dir / "plain.jsonl.gz",
      R"({"rating": 5.0, "title": "Great", "text": "Loved it", "images": [], "asin": "B01", "parent_asin": "P01", "user_id": "U9", "timestamp": 1588687728923, "helpful_vote": 0, "verified_purchase": true})"
      "\n"
      R"({"rating": 1, "title": "Bad", "text": "", "asin": "B02", "user_id": "U9", "timestamp": 1588687728924})"
      "\n");
  const auto c = collect(dir / "plain.jsonl.gz");
  ASSERT_EQ(c.records.size(), 2u);
  EXPECT_EQ(c.records[0].item, "P01");
  EXPECT_EQ(c.records[0].review, "Loved it");
  EXPECT_EQ(c.records[0].summary, "Great");
  EXPECT_EQ(c.records[0].timestamp, 1588687728923);
  EXPECT_EQ(c.records[1].item, "B02");  // asin when parent_asin is absent
}

TEST(Amazon2023Reader, MalformedLineReasons) {
  EXPECT_EQ(reason_of(R"({"category": "c", "history": [)" + review("A", 1) + "]}"),
            "missing or empty 'user_id'");
  EXPECT_EQ(
      reason_of(R"({"user_id": "U", "history": [)" + review("A", 1) + ", " + R"({"rating": 5}]})"),
      "history[1]: missing or empty 'parent_asin'");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "history": [{"parent_asin": "A", "rating": "abc"}]})"),
            "history[0]: 'rating' must be a number, got string");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "heldout": {"parent_asin": "A", "timestamp_ms": 1.5}})"),
            "heldout: 'timestamp_ms' must be an integer, got 1.5");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "history": [5]})"),
            "'history' items must be objects, got number");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "history": {}})"),
            "'history' must be an array, got object");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "history": []})"),
            "no reviews in 'history' or 'heldout'");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "text": "x"})"), "missing or empty 'parent_asin'");
  EXPECT_EQ(reason_of(R"({"user_id": "U", "history": [{"parent_asin": "A", "product": "x"}]})"),
            "history[0]: 'product' must be an object, got string");
  EXPECT_EQ(reason_of(R"([1])"), "expected a JSON object, got array");
  EXPECT_NE(reason_of(R"({"user_id": "U", "history": [)").find("invalid JSON"), std::string::npos);
}

TEST(Amazon2023Reader, FailAndSkipModesWithFileAndLine) {
  TempDir dir;
  const std::string good = R"({"user_id": "U", "category": "c", "history": [)" + review("A", 1) +
                           "], \"heldout\": " + review("B", 2) + "}";
  write_file(dir / "training.jsonl", good + "\n" + good + "\n");
  write_file(dir / "validation.jsonl",
             good + "\r\n" + R"({"user_id": "U", "history": [{"rating": 1}]})" + "\r\n" + good);
  write_file(dir / "test.jsonl", good);
  try {
    collect(dir.path());
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "validation.jsonl").string() +
                                         ":2: history[0]: missing or empty 'parent_asin'");
  }
  const auto c = collect(dir.path(), ReadOptions{.skip_malformed = true});
  EXPECT_EQ(c.records.size(), 5u * 2u);  // the bad line emits nothing, not even its heldout
  EXPECT_EQ(c.stats.skipped, 1u);
  EXPECT_EQ(c.stats.lines, 6u);
}

}  // namespace
