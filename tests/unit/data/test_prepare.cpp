// prepare_dataset: ordering, de-duplication, splits, filtering, the leakage invariant, external
// sort with tiny budgets, and failure atomicity.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>

#include "tests/support/test_support.h"
#include "tests/unit/data/test_prepare_fixture.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/data/prepare/prepare.h"

namespace seller::data {
namespace {
namespace fs = std::filesystem;
using seller::testing::TempDir;
using test::rec;
using test::source_of;

// Original item ids of a user's history, looked up by original user id.
std::vector<std::string> history_of(const Dataset& d, const std::string& user) {
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    if (d.user_id(u) != user) continue;
    std::vector<std::string> out;
    for (uint32_t item : d.history(u)) out.emplace_back(d.item_id(item));
    return out;
  }
  return {"<no such user>"};
}

std::vector<SplitTag> tags_of(const Dataset& d, const std::string& user) {
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    if (d.user_id(u) != user) continue;
    std::vector<SplitTag> out;
    for (uint8_t t : d.split_tags(u)) out.push_back(SplitTag(t));
    return out;
  }
  return {};
}

using V = std::vector<std::string>;
constexpr auto T = SplitTag::kTrain, Va = SplitTag::kValid, Te = SplitTag::kTest;

TEST(Prepare, ChronologicalWithStableTies) {
  TempDir tmp;
  // Shuffled input; b and d share a timestamp and must keep input order (b before d) although
  // their ids sort the other way round for "z" vs "a".
  std::vector<Record> in = {rec("u1", "c", 30), rec("u1", "z-b", 20), rec("u2", "x", 5),
                            rec("u1", "a", 10), rec("u1", "a-d", 20), rec("u2", "y", 1)};
  PrepareStats s = prepare_dataset(source_of(in), {}, tmp / "ds");
  EXPECT_EQ(s.input_records, 6u);
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(history_of(d, "u1"), (V{"a", "z-b", "a-d", "c"}));
  EXPECT_EQ(history_of(d, "u2"), (V{"y", "x"}));
  EXPECT_EQ(d.user_id(0), "u1");  // dense ids in order of first appearance
}

TEST(Prepare, MissingTimestampsKeepInputOrder) {
  TempDir tmp;
  std::vector<Record> in = {rec("u", "3", kNoTimestamp), rec("u", "1", kNoTimestamp),
                            rec("u", "2", kNoTimestamp)};
  PrepareStats s = prepare_dataset(source_of(in), {}, tmp / "ds");
  EXPECT_EQ(s.records_without_timestamp, 3u);
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(history_of(d, "u"), (V{"3", "1", "2"}));
  EXPECT_EQ(d.timestamps(0)[0], kNoTimestamp);
}

TEST(Prepare, DedupAmazon2018VariantsAndRepeatedPairs) {
  TempDir tmp;
  std::vector<Record> in = {
      // One review repeated under three product variants: only the first is kept.
      rec("u", "variant-1", 100, "great shoes"), rec("u", "variant-2", 100, "great shoes"),
      rec("u", "variant-3", 100, "great shoes"),
      // Same (user, item) twice: the chronologically first is kept, even if it comes later.
      rec("u", "p", 300, "second"), rec("u", "p", 200, "first"),
      // Same time, different text: both kept. Empty text never counts as a duplicate.
      rec("u", "q", 400, "a"), rec("u", "r", 400, "b"), rec("u", "s", 500, ""),
      rec("u", "t", 500, ""),
      // Another user with the same text and time is not a duplicate.
      rec("v", "variant-2", 100, "great shoes")};
  PrepareStats s = prepare_dataset(source_of(in), {}, tmp / "ds");
  EXPECT_EQ(s.duplicate_user_time_text, 2u);
  EXPECT_EQ(s.duplicate_user_item, 1u);
  EXPECT_EQ(s.duplicates_removed, 3u);
  EXPECT_EQ(s.interactions, 7u);
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(history_of(d, "u"), (V{"variant-1", "p", "q", "r", "s", "t"}));
  EXPECT_EQ(d.review(0, 1), "first");
  EXPECT_EQ(history_of(d, "v"), (V{"variant-2"}));
  EXPECT_EQ(d.stats().duplicates_removed, 3u);

  PrepareOptions keep_all;
  keep_all.dedup = false;
  PrepareStats s2 = prepare_dataset(source_of(in), keep_all, tmp / "all");
  EXPECT_EQ(s2.interactions, in.size());
  EXPECT_EQ(s2.duplicates_removed, 0u);
}

TEST(Prepare, LeaveOneOutSplit) {
  TempDir tmp;
  std::vector<Record> in;
  for (int i = 0; i < 5; ++i) in.push_back(rec("five", "i" + std::to_string(i), 10 * i));
  in.push_back(rec("two", "a", 1));
  in.push_back(rec("two", "b", 2));
  in.push_back(rec("three", "a", 1));
  in.push_back(rec("three", "b", 2));
  in.push_back(rec("three", "c", 3));
  in.push_back(rec("one", "a", 1));
  PrepareStats s = prepare_dataset(source_of(in), {}, tmp / "ds");
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(tags_of(d, "five"), (std::vector<SplitTag>{T, T, T, Va, Te}));
  EXPECT_EQ(tags_of(d, "three"), (std::vector<SplitTag>{T, Va, Te}));
  EXPECT_EQ(tags_of(d, "two"), (std::vector<SplitTag>{T, T}));  // too short: train only
  EXPECT_EQ(tags_of(d, "one"), (std::vector<SplitTag>{T}));
  EXPECT_EQ(s.test, 2u);
  EXPECT_EQ(s.valid, 2u);
  EXPECT_EQ(s.train, 7u);
}

TEST(Prepare, TemporalSplit) {
  TempDir tmp;
  std::vector<Record> in;
  for (int i = 0; i < 10; ++i) in.push_back(rec("ten", "i" + std::to_string(i), 100 - i));
  for (int i = 0; i < 2; ++i) in.push_back(rec("two", "i" + std::to_string(i), i));
  for (int i = 0; i < 4; ++i) in.push_back(rec("four", "i" + std::to_string(i), i));
  PrepareOptions o;
  o.split = PrepareOptions::Split::kTemporal;
  o.valid_fraction = 0.2;
  o.test_fraction = 0.3;
  prepare_dataset(source_of(in), o, tmp / "ds");
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(tags_of(d, "ten"), (std::vector<SplitTag>{T, T, T, T, T, Va, Va, Te, Te, Te}));
  EXPECT_EQ(history_of(d, "ten").front(), "i9");  // latest timestamp last
  // n=2: round(0.6)=1 test, round(0.4)=0 valid; n=4: round(1.2)=1 test, round(0.8)=1 valid.
  EXPECT_EQ(tags_of(d, "two"), (std::vector<SplitTag>{T, Te}));
  EXPECT_EQ(tags_of(d, "four"), (std::vector<SplitTag>{T, T, Va, Te}));
}

TEST(Prepare, MinUserInteractionsDropsShortUsersAndTheirItems) {
  TempDir tmp;
  std::vector<Record> in = {rec("a", "x", 1),      rec("a", "y", 2),      rec("a", "z", 3),
                            rec("b", "only-b", 1), rec("b", "only-b", 2),  // 1 after dedup
                            rec("c", "x", 1),      rec("c", "w", 2),      rec("c", "y", 3)};
  PrepareOptions o;
  o.min_user_interactions = 3;
  PrepareStats s = prepare_dataset(source_of(in), o, tmp / "ds");
  EXPECT_EQ(s.users, 2u);
  EXPECT_EQ(s.users_dropped, 1u);
  EXPECT_EQ(s.interactions_dropped, 1u);
  EXPECT_EQ(s.items, 4u);
  Dataset d = Dataset::open(tmp / "ds");
  EXPECT_EQ(d.user_id(0), "a");
  EXPECT_EQ(d.user_id(1), "c");
  for (uint32_t i = 0; i < d.num_items(); ++i) EXPECT_NE(d.item_id(i), "only-b");

  o.min_user_interactions = 10;
  EXPECT_THROW(prepare_dataset(source_of(in), o, tmp / "none"), DataError);
  EXPECT_FALSE(fs::exists(tmp / "none"));
}

TEST(Prepare, ItemMetadataFirstNonEmptyWins) {
  TempDir tmp;
  std::vector<Record> in = {rec("u", "i", 1), rec("v", "i", 2), rec("w", "i", 3)};
  in[1].title = "Title";
  in[2].title = "Later title";
  in[2].description = "Desc";
  in[0].category = "Cat";
  in[0].summary = "sum";
  in[0].feature = "feat";
  in[1].rating = std::numeric_limits<float>::quiet_NaN();
  prepare_dataset(source_of(in), {}, tmp / "ds");
  Dataset d = Dataset::open(tmp / "ds");
  ASSERT_EQ(d.num_items(), 1u);
  EXPECT_EQ(d.item_title(0), "Title");
  EXPECT_EQ(d.item_description(0), "Desc");
  EXPECT_EQ(d.item_category(0), "Cat");
  EXPECT_EQ(d.summary(0, 0), "sum");
  EXPECT_EQ(d.feature(0, 0), "feat");
  EXPECT_TRUE(std::isnan(d.ratings(1)[0]));
  EXPECT_EQ(d.ratings(0)[0], 5.0f);
}

// A random fixture: shuffled input, many equal timestamps, duplicates.
std::vector<Record> random_records(size_t n, uint32_t seed, bool with_missing_ts = false) {
  std::mt19937 rng(seed);
  std::vector<Record> out;
  for (size_t i = 0; i < n; ++i) {
    const int user = static_cast<int>(rng() % (n / 12 + 1));
    const int item = static_cast<int>(rng() % (n / 4 + 1));
    int64_t ts = static_cast<int64_t>(rng() % 50) * 1000;  // few distinct values: many ties
    if (with_missing_ts && rng() % 10 == 0) ts = kNoTimestamp;
    std::string review = rng() % 5 == 0 ? "same text" : "review " + std::to_string(rng() % 1000);
    out.push_back(rec("user" + std::to_string(user), "item" + std::to_string(item), ts, review,
                      static_cast<float>(rng() % 5 + 1)));
    if (rng() % 3 == 0) out.back().title = "title of " + out.back().item;
  }
  return out;
}

void expect_no_leakage(const Dataset& d) {
  for (uint32_t u = 0; u < d.num_users(); ++u) {
    auto ts = d.timestamps(u);
    auto tags = d.split_tags(u);
    for (size_t k = 1; k < ts.size(); ++k) {
      ASSERT_LE(ts[k - 1], ts[k]) << "user " << d.user_id(u) << " not chronological at " << k;
      ASSERT_LE(tags[k - 1], tags[k]) << "user " << d.user_id(u) << ": train < valid < test";
    }
    // Every valid/test target is no earlier than every item of its history.
    for (size_t k = 0; k < ts.size(); ++k) {
      if (tags[k] == static_cast<uint8_t>(SplitTag::kTrain)) continue;
      for (size_t h = 0; h < k; ++h) ASSERT_LE(ts[h], ts[k]);
    }
  }
}

TEST(Prepare, NoTargetEarlierThanItsHistory) {
  TempDir tmp;
  auto in = random_records(3000, 7, /*with_missing_ts=*/true);
  for (auto split : {PrepareOptions::Split::kLeaveOneOut, PrepareOptions::Split::kTemporal}) {
    PrepareOptions o;
    o.split = split;
    o.test_fraction = 0.3;
    o.valid_fraction = 0.2;
    const fs::path out = tmp / split_name(split);
    prepare_dataset(source_of(in), o, out);
    Dataset d = Dataset::open(out);
    expect_no_leakage(d);
    EXPECT_GT(d.stats().test, 0u);
    EXPECT_GT(d.stats().valid, 0u);
  }
}

// Exhaustive comparison of two datasets through the public reader.
void expect_same(const Dataset& a, const Dataset& b) {
  ASSERT_EQ(a.num_users(), b.num_users());
  ASSERT_EQ(a.num_items(), b.num_items());
  ASSERT_EQ(a.num_interactions(), b.num_interactions());
  for (uint32_t u = 0; u < a.num_users(); ++u) {
    ASSERT_EQ(a.user_id(u), b.user_id(u));
    ASSERT_TRUE(std::ranges::equal(a.history(u), b.history(u)));
    ASSERT_TRUE(std::ranges::equal(a.timestamps(u), b.timestamps(u)));
    ASSERT_TRUE(std::ranges::equal(a.split_tags(u), b.split_tags(u)));
    ASSERT_TRUE(std::ranges::equal(a.ratings(u), b.ratings(u)));
    for (size_t k = 0; k < a.history(u).size(); ++k) ASSERT_EQ(a.review(u, k), b.review(u, k));
    ASSERT_EQ(a.interaction_offset(u), b.interaction_offset(u));
  }
  for (uint32_t i = 0; i < a.num_items(); ++i) {
    ASSERT_EQ(a.item_id(i), b.item_id(i));
    ASSERT_EQ(a.item_title(i), b.item_title(i));
  }
}

TEST(Prepare, TinySortBudgetGivesIdenticalResult) {
  TempDir tmp;
  auto in = random_records(20000, 11, true);
  PrepareOptions big;
  PrepareStats sb = prepare_dataset(source_of(in), big, tmp / "big");
  EXPECT_EQ(sb.sort_runs, 1u);
  EXPECT_EQ(sb.shards, 1u);
  PrepareOptions tiny;
  tiny.sort_memory_bytes = 4096;
  tiny.shard_bytes = 16 << 10;
  PrepareStats st = prepare_dataset(source_of(in), tiny, tmp / "tiny");
  EXPECT_GT(st.sort_runs, 200u);
  EXPECT_GE(st.merge_passes, 1u);  // more runs than the merge fan-in
  EXPECT_GT(st.shards, 5u);
  EXPECT_EQ(st.interactions, sb.interactions);
  EXPECT_EQ(st.duplicates_removed, sb.duplicates_removed);
  Dataset a = Dataset::open(tmp / "big");
  Dataset b = Dataset::open(tmp / "tiny");
  EXPECT_EQ(b.num_shards(), st.shards);
  expect_same(a, b);
  expect_no_leakage(b);
  // And the order is what a stable in-memory sort gives (checked without dedup).
  PrepareOptions nodedup = tiny;
  nodedup.dedup = false;
  prepare_dataset(source_of(in), nodedup, tmp / "nodedup");
  Dataset c = Dataset::open(tmp / "nodedup");
  std::map<std::string, std::vector<std::pair<int64_t, std::string>>> expected;
  for (const Record& r : in) expected[r.user].emplace_back(r.timestamp, r.item);
  for (uint32_t u = 0; u < c.num_users(); ++u) {
    auto& e = expected[std::string(c.user_id(u))];
    std::stable_sort(e.begin(), e.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    auto h = c.history(u);
    ASSERT_EQ(h.size(), e.size());
    for (size_t k = 0; k < h.size(); ++k) ASSERT_EQ(c.item_id(h[k]), e[k].second);
  }
}

size_t entries(const fs::path& dir) {
  return static_cast<size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

TEST(Prepare, FailureHalfwayLeavesNothingBehind) {
  TempDir tmp;
  auto in = random_records(10000, 3);
  RecordSource failing = [&](const RecordSink& sink) {
    SourcePosition pos{"big.json", 0};
    for (const Record& r : in) {
      if (++pos.line == 5000) throw DataError("big.json:5000: malformed line");
      sink(r, pos);
    }
  };
  PrepareOptions tiny;
  tiny.sort_memory_bytes = 4096;  // run files exist when the source fails
  EXPECT_THROW(prepare_dataset(failing, tiny, tmp / "ds"), DataError);
  EXPECT_EQ(entries(tmp.path()), 0u);

  // An existing dataset survives a failed re-run untouched.
  prepare_dataset(source_of(in), {}, tmp / "ds");
  const auto before = seller::testing::read_file(tmp / "ds" / "manifest.json");
  EXPECT_THROW(prepare_dataset(failing, tiny, tmp / "ds"), DataError);
  EXPECT_EQ(seller::testing::read_file(tmp / "ds" / "manifest.json"), before);
  EXPECT_EQ(entries(tmp.path()), 1u);
  EXPECT_NO_THROW(Dataset::open(tmp / "ds"));
  // A successful re-run replaces it and leaves no temporaries.
  PrepareOptions o;
  o.source_format = "synthetic";
  prepare_dataset(source_of(in), o, tmp / "ds");
  EXPECT_EQ(Dataset::open(tmp / "ds").source_format(), "synthetic");
  EXPECT_EQ(entries(tmp.path()), 1u);
  EXPECT_EQ(entries(tmp / "ds"), 4u);  // manifest, users, items, one shard
}

TEST(Prepare, BadInputErrors) {
  TempDir tmp;
  std::vector<Record> in = {rec("u", "i", 1), rec("u", "j", 2), rec("", "k", 3)};
  try {
    prepare_dataset(source_of(in), {}, tmp / "ds");
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("fixture.json:3"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp / "ds"));
  std::vector<Record> none;
  EXPECT_THROW(prepare_dataset(source_of(none), {}, tmp / "ds"), DataError);
  // Never replaces a folder that is not a dataset.
  seller::testing::write_file(tmp / "precious" / "thesis.tex", "x");
  std::vector<Record> one = {rec("u", "i", 1)};
  EXPECT_THROW(prepare_dataset(source_of(one), {}, tmp / "precious"), DataError);
  EXPECT_TRUE(fs::exists(tmp / "precious" / "thesis.tex"));
}

TEST(Prepare, RejectsImpossibleOptions) {
  auto bad = [](auto mutate) {
    PrepareOptions o;
    mutate(o);
    EXPECT_THROW(validate_prepare_options(o), ConfigError);
  };
  bad([](PrepareOptions& o) { o.test_fraction = 1.0; });
  bad([](PrepareOptions& o) { o.valid_fraction = -0.1; });
  bad([](PrepareOptions& o) { o.valid_fraction = 0.5, o.test_fraction = 0.5; });
  bad([](PrepareOptions& o) { o.sort_memory_bytes = 10; });
  bad([](PrepareOptions& o) { o.shard_bytes = 0; });
  EXPECT_NO_THROW(validate_prepare_options(PrepareOptions{}));
}

}  // namespace
}  // namespace seller::data
