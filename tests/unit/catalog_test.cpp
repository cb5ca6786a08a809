// Catalog lookups by name and oid: by map once indexed (load_catalog indexes
// what it reads; at 10,000 tables a linear search per lookup was quadratic),
// by a linear search for a catalog built by hand or grown since it was
// indexed, and never a wrong table.
#include <gtest/gtest.h>

#include "pgcutover/catalog/catalog.hpp"

using namespace pgcutover;

namespace {

catalog::TableDef table(u32 oid, const std::string &schema, const std::string &name) {
  catalog::TableDef t;
  t.oid = oid;
  t.name = {schema, name};
  t.relkind = 'r';
  return t;
}

void expect_finds(const catalog::Catalog &c, const std::string &when) {
  ASSERT_NE(c.find({"a", "t1"}), nullptr) << when;
  EXPECT_EQ(c.find({"a", "t1"})->oid, 101u) << when;
  ASSERT_NE(c.find({"b", "t1"}), nullptr) << when;
  EXPECT_EQ(c.find({"b", "t1"})->oid, 201u) << when;
  ASSERT_NE(c.find_oid(102), nullptr) << when;
  EXPECT_EQ(c.find_oid(102)->name.name, "t2") << when;
  EXPECT_EQ(c.find({"a", "t3"}), nullptr) << when;
  EXPECT_EQ(c.find({"c", "t1"}), nullptr) << when;
  EXPECT_EQ(c.find_oid(0), nullptr) << when << ": no parent";
  EXPECT_EQ(c.find_oid(999), nullptr) << when;
}

}  // namespace

TEST(Catalog, FindsByNameAndOidWhetherIndexedOrNot) {
  catalog::Catalog c;
  EXPECT_EQ(c.find({"a", "t1"}), nullptr) << "empty";
  EXPECT_EQ(c.find_oid(1), nullptr) << "empty";
  c.tables = {table(101, "a", "t1"), table(102, "a", "t2"), table(201, "b", "t1")};
  expect_finds(c, "built by hand, not indexed");
  c.index();
  EXPECT_EQ(c.by_name.size(), 3u);
  expect_finds(c, "indexed");

  // Grown after it was indexed: the map no longer covers every table, so
  // lookups search, and find the new one.
  c.tables.push_back(table(301, "c", "t9"));
  ASSERT_NE(c.find({"c", "t9"}), nullptr);
  EXPECT_EQ(c.find({"c", "t9"})->oid, 301u);
  ASSERT_NE(c.find_oid(301), nullptr);
  EXPECT_EQ(c.find_oid(301)->name.name, "t9");
  expect_finds(c, "grown since indexed");

  // Reordered after it was indexed: a position that holds another table
  // is not trusted.
  c.index();
  std::swap(c.tables[0], c.tables[1]);
  expect_finds(c, "reordered since indexed");
  c.index();
  expect_finds(c, "indexed again");
}
