// Range math on samples: equal sampled weight per range, boundaries from the
// keys, skew and heavy rows respected.
#include <gtest/gtest.h>

#include "pgcutover/plan/range_planner.hpp"
#include "pgcutover/sync/change_ranges.hpp"

using namespace pgcutover;
using namespace pgcutover::plan;

namespace {
std::vector<Sample> samples(const std::vector<std::pair<long long, i64>> &kv) {
  std::vector<Sample> out;
  for (auto [k, b] : kv) out.push_back({KeyBound{{std::to_string(k)}}, b});
  return out;
}
}  // namespace

TEST(RangePlanner, RangeCount) {
  EXPECT_EQ(range_count(0, 100), 1);
  EXPECT_EQ(range_count(100, 100), 1);
  EXPECT_EQ(range_count(101, 100), 2);
  EXPECT_EQ(range_count(1000, 0), 1);
}

TEST(RangePlanner, OneRangeWithoutSamples) {
  auto r = cut_ranges({}, 5, 1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_TRUE(r[0].whole_table());
}

TEST(RangePlanner, EqualWeightsGiveEqualRanges) {
  std::vector<std::pair<long long, i64>> kv;
  for (int i = 0; i < 1000; ++i) kv.push_back({i * 1000000LL - 5, 10});  // sparse, negative start
  auto r = cut_ranges(samples(kv), 4, 4000);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_FALSE(r[0].lower);
  EXPECT_FALSE(r[3].upper);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_EQ(r[i].lower, r[i - 1].upper);
  for (auto &x : r) EXPECT_NEAR(static_cast<double>(x.planned_bytes), 1000.0, 20.0);
  EXPECT_EQ(r[1].lower->values[0], std::to_string(250 * 1000000LL - 5));
}

TEST(RangePlanner, HeavyRowsGetNarrowRanges) {
  // Keys 0..999, the last 100 rows are 100x heavier: half the ranges go there.
  std::vector<std::pair<long long, i64>> kv;
  for (int i = 0; i < 1000; ++i) kv.push_back({i, i >= 900 ? 1000 : 10});
  auto r = cut_ranges(samples(kv), 10, 109000);
  ASSERT_GE(r.size(), 9u);
  int in_heavy = 0;
  for (auto &x : r)
    if (x.lower && std::stoll(x.lower->values[0]) >= 900) ++in_heavy;
  EXPECT_GE(in_heavy, 8);
  for (auto &x : r) EXPECT_LE(x.planned_bytes, 2 * 109000 / 10);
}

TEST(RangePlanner, NoEmptyOrRepeatedBoundaries) {
  auto r = cut_ranges(samples({{1, 5}, {2, 5}, {3, 5}}), 10, 15);
  for (size_t i = 1; i < r.size(); ++i) {
    ASSERT_TRUE(r[i].lower);
    EXPECT_NE(r[i].lower, r[i - 1].lower);
  }
  EXPECT_LE(r.size(), 3u);
}

TEST(RangePlanner, DescribeShowsOpenEnds) {
  KeyRange r{0, std::nullopt, KeyBound{{"a", "b"}}, 0};
  EXPECT_EQ(r.describe(), "[-inf, (a, b))");
}

// A sync's change ranges cut where the target's keys end: the parts at or
// above the first new key are marked new_keys, in key order, ids renumbered.
TEST(RangePlanner, SplitAtNewKeys) {
  auto b = [](long long k) { return std::optional<KeyBound>(KeyBound{{std::to_string(k)}}); };
  std::vector<KeyRange> whole = {KeyRange{0, std::nullopt, std::nullopt, 0}};
  std::vector<KeyRange> w = sync::split_at_new_keys(whole, 101);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].describe(), "[-inf, 101)");
  EXPECT_EQ(w[1].describe(), "[101, +inf) new keys");
  EXPECT_FALSE(w[0].new_keys);
  EXPECT_TRUE(w[1].new_keys);
  EXPECT_EQ(w[1].id, 1);

  // Three quantile ranges; the cut falls inside the middle one.
  std::vector<KeyRange> q = {KeyRange{0, std::nullopt, b(50), 0}, KeyRange{1, b(50), b(150), 0},
                             KeyRange{2, b(150), std::nullopt, 0}};
  std::vector<KeyRange> s = sync::split_at_new_keys(q, 101);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].describe(), "[-inf, 50)");
  EXPECT_EQ(s[1].describe(), "[50, 101)");
  EXPECT_EQ(s[2].describe(), "[101, 150) new keys");
  EXPECT_EQ(s[3].describe(), "[150, +inf) new keys");
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i].id, static_cast<i64>(i));

  // A cut on a boundary splits nothing; negative keys compare as numbers.
  std::vector<KeyRange> e = sync::split_at_new_keys(q, 150);
  ASSERT_EQ(e.size(), 3u);
  EXPECT_FALSE(e[1].new_keys);
  EXPECT_TRUE(e[2].new_keys);
  std::vector<KeyRange> n = sync::split_at_new_keys({KeyRange{0, b(-20), b(-3), 0}}, -10);
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].describe(), "[-20, -10)");
  EXPECT_EQ(n[1].describe(), "[-10, -3) new keys");
}
