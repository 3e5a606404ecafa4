// SELLER examples from a prepared dataset: which interactions become train / valid / test pairs,
// their histories (cut to max_history, oldest first), ids, and the seeded train subsample.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/support/test_support.h"
#include "tests/unit/data/test_prepare_fixture.h"
#include "trainer/data/dataset.h"
#include "trainer/data/explain_examples.h"

namespace seller::data {
namespace {
using seller::testing::TempDir;
using test::rec;
using test::source_of;

// 3 users: u0 has 6 reviewed interactions, u1 has 4 with the 2nd review empty, u2 has 2.
std::vector<Record> records() {
  std::vector<Record> in;
  for (int k = 0; k < 6; ++k)
    in.push_back(
        rec("u0", "i" + std::to_string(k), 100 + k, "r0-" + std::to_string(k), 1.0f + k % 5));
  for (int k = 0; k < 4; ++k)
    in.push_back(
        rec("u1", "i" + std::to_string(10 + k), 200 + k, k == 1 ? "" : "r1-" + std::to_string(k)));
  for (int k = 0; k < 2; ++k)
    in.push_back(rec("u2", "i" + std::to_string(20 + k), 300 + k, "r2-" + std::to_string(k)));
  in[0].feature = "battery";
  return in;
}

Dataset prepared(const TempDir& tmp) {
  static const std::vector<Record> in = records();
  PrepareOptions o;
  o.source_format = "fixture";
  prepare_dataset(source_of(in), o, tmp / "ds");
  return Dataset::open(tmp / "ds");
}

TEST(ExplainExamples, LeaveOneOutPairsAndHistories) {
  TempDir tmp;
  const auto ds = prepared(tmp);
  const auto s = build_explain_examples(ds, 3);
  // u0: train k=1..3 (k=0 has no history), valid k=4, test k=5. u1: valid k=2, test k=3, no
  // train pair (k=1 has no review, k=0 no history). u2 is too short to hold out anything: its
  // k=1 is a train pair.
  std::multiset<std::string> train_ids;
  for (const auto& e : s.train) train_ids.insert(e.id);
  EXPECT_EQ(train_ids, (std::multiset<std::string>{"u0:i1", "u0:i2", "u0:i3", "u2:i21"}));
  ASSERT_EQ(s.test.size(), 2u);
  ASSERT_EQ(s.valid.size(), 2u);
  const auto& t0 = s.test[0];
  EXPECT_EQ(t0.id, "u0:i5");
  EXPECT_EQ(t0.explanation, "r0-5");
  // History: every interaction before the target (valid included), the most recent 3.
  ASSERT_EQ(t0.history.size(), 3u);
  EXPECT_EQ(ds.item_id(t0.history[0]), "i2");
  EXPECT_EQ(ds.item_id(t0.history[2]), "i4");
  EXPECT_EQ(ds.item_id(t0.item), "i5");
  EXPECT_FLOAT_EQ(t0.rating, 1.0f + 5 % 5);
  EXPECT_EQ(s.valid[0].id, "u0:i4");
  // u1: the valid pair is i12 with history i10, i11 (the unreviewed i11 still counts as history).
  EXPECT_EQ(s.valid[1].id, "u1:i12");
  EXPECT_EQ(s.valid[1].history.size(), 2u);
  EXPECT_EQ(s.test[1].id, "u1:i13");
  EXPECT_EQ(s.train.back().history.size(), 1u);
  for (const auto& e : s.train) EXPECT_FALSE(e.history.empty());
}

TEST(ExplainExamples, FeatureAndMissingRating) {
  TempDir tmp;
  const auto ds = prepared(tmp);
  const auto s = build_explain_examples(ds, 10);
  // u0's first interaction has the feature but is never a pair (no history); u1 has ratings.
  for (const auto& e : s.train) EXPECT_TRUE(e.feature.empty());
  EXPECT_FALSE(std::isnan(s.test[1].rating));
}

TEST(ExplainExamples, SeededSubsampleKeepsOrder) {
  TempDir tmp;
  const auto ds = prepared(tmp);
  const auto all = build_explain_examples(ds, 10);
  const auto a = build_explain_examples(ds, 10, 2, 7);
  const auto b = build_explain_examples(ds, 10, 2, 7);
  ASSERT_EQ(a.train.size(), 2u);
  EXPECT_EQ(a.train[0].id, b.train[0].id);
  EXPECT_EQ(a.train[1].id, b.train[1].id);
  // Original order kept: the two ids appear in `all` in the same relative order.
  size_t i0 = 0, i1 = 0;
  for (size_t i = 0; i < all.train.size(); ++i) {
    if (all.train[i].id == a.train[0].id) i0 = i;
    if (all.train[i].id == a.train[1].id) i1 = i;
  }
  EXPECT_LT(i0, i1);
  EXPECT_EQ(a.test.size(), all.test.size());  // only train is subsampled
}

}  // namespace
}  // namespace seller::data
