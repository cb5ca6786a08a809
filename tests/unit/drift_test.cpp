// Drift found from two catalogs: a change made on a partitioned parent is
// reported once, on the parent; a rename blocks; a dropped table is named
// while the target still has it, and no more once the target's is dropped.
#include <gtest/gtest.h>

#include "pgcutover/sync/drift.hpp"

using namespace pgcutover;

namespace {

catalog::ColumnDef col(const std::string &name, const std::string &type, const std::string &dflt = "", bool not_null = false) {
  catalog::ColumnDef c;
  c.name = name;
  c.type = type;
  c.default_expr = dflt;
  c.not_null = not_null;
  return c;
}

catalog::TableDef table(u32 oid, const std::string &name, char kind, u32 parent, std::vector<catalog::ColumnDef> cols) {
  catalog::TableDef t;
  t.oid = oid;
  t.name = {"s", name};
  t.relkind = kind;
  t.parent_oid = parent;
  t.is_partition = parent != 0;
  t.columns = std::move(cols);
  t.key = {"id"};
  return t;
}

catalog::Catalog cat(std::vector<catalog::TableDef> tables) {
  catalog::Catalog c;
  c.tables = std::move(tables);
  std::sort(c.tables.begin(), c.tables.end(), [](const auto &a, const auto &b) { return a.name < b.name; });
  return c;
}

}  // namespace

TEST(Drift, AChangeOnAPartitionedParentIsReportedOnceOnTheParent) {
  std::vector<catalog::ColumnDef> before = {col("id", "integer", "", true)};
  std::vector<catalog::ColumnDef> after = {col("id", "integer", "", true), col("note", "text", "'x'::text")};
  catalog::Catalog src = cat({table(1, "p", 'p', 0, after), table(2, "p1", 'r', 1, after), table(3, "p2", 'r', 1, after)});
  catalog::Catalog dst = cat({table(11, "p", 'p', 0, before), table(12, "p1", 'r', 11, before), table(13, "p2", 'r', 11, before)});
  std::vector<sync::Drift> d = sync::find_drift(src, dst, {*src.find({"s", "p1"}), *src.find({"s", "p2"})});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].table.name, "p");
  EXPECT_EQ(d[0].kind, sync::DriftKind::AddedColumn);
  EXPECT_EQ(d[0].column, "note");
}

TEST(Drift, ARenameBlocksAndNamesBothColumns) {
  catalog::Catalog src = cat({table(1, "t", 'r', 0, {col("id", "integer"), col("quantity", "integer")})});
  catalog::Catalog dst = cat({table(2, "t", 'r', 0, {col("id", "integer"), col("qty", "integer")})});
  std::vector<sync::Drift> d = sync::find_drift(src, dst, src.tables);
  ASSERT_EQ(d.size(), 2u);
  bool blocked = false;
  for (const sync::Drift &x : d)
    if (x.kind == sync::DriftKind::DroppedColumn) {
      blocked = x.blocking;
      EXPECT_NE(x.detail.find("possibly renamed to \"quantity\""), std::string::npos) << x.detail;
    }
  EXPECT_TRUE(blocked);
}

TEST(Drift, DefaultAndNullabilityChangesAreFound) {
  catalog::Catalog src = cat({table(1, "t", 'r', 0, {col("id", "integer", "", true), col("v", "text", "'b'::text", false)})});
  catalog::Catalog dst = cat({table(2, "t", 'r', 0, {col("id", "integer", "", true), col("v", "text", "'a'::text", true)})});
  std::vector<sync::Drift> d = sync::find_drift(src, dst, src.tables);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].kind, sync::DriftKind::DefaultChanged);
  EXPECT_EQ(d[1].kind, sync::DriftKind::NullChanged);
  EXPECT_NE(d[1].detail.find("DROP NOT NULL"), std::string::npos);
  EXPECT_FALSE(d[0].blocking || d[1].blocking);
}

TEST(Drift, ADroppedTableIsNamedWhileTheTargetStillHasIt) {
  catalog::Catalog src = cat({table(1, "kept", 'r', 0, {col("id", "integer")})});
  catalog::Catalog dst = cat({table(2, "kept", 'r', 0, {col("id", "integer")}), table(3, "gone", 'r', 0, {col("id", "integer")})});
  std::vector<sql::QualifiedName> copied = {{"s", "kept"}, {"s", "gone"}};
  std::vector<sync::Drift> d = sync::find_dropped_tables(src, dst, copied);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].table.name, "gone");
  EXPECT_TRUE(d[0].blocking);
  catalog::Catalog dst_after = cat({table(2, "kept", 'r', 0, {col("id", "integer")})});
  EXPECT_TRUE(sync::find_dropped_tables(src, dst_after, copied).empty());
}
