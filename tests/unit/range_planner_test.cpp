// Range math on samples: equal sampled weight per range, boundaries from the
// keys, skew and heavy rows respected.
#include <gtest/gtest.h>

#include "pgcutover/plan/range_planner.hpp"

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
