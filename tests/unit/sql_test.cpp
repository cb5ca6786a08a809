// Quoting and statement text, golden strings over hostile names.
#include <gtest/gtest.h>

#include "pgcutover/plan/key_range.hpp"
#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/util/error.hpp"

using namespace pgcutover;
using namespace pgcutover::sql;

TEST(Ident, AlwaysQuotesAndDoublesQuotes) {
  EXPECT_EQ(quote_ident("simple"), "\"simple\"");
  EXPECT_EQ(quote_ident("MiXeD"), "\"MiXeD\"");
  EXPECT_EQ(quote_ident("a b"), "\"a b\"");
  EXPECT_EQ(quote_ident("x\"y"), "\"x\"\"y\"");
  EXPECT_EQ(quote_ident("select"), "\"select\"");
  EXPECT_EQ(quote_ident("it's"), "\"it's\"");
  EXPECT_EQ(quote_ident("new\nline"), "\"new\nline\"");
  EXPECT_EQ(quote_ident("Ünïcödé таблица"), "\"Ünïcödé таблица\"");
  EXPECT_THROW(quote_ident(std::string("a\0b", 3)), Error);
}

TEST(Ident, LiteralsDoubleSingleQuotesOnly) {
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal("back\\slash"), "'back\\slash'");
  EXPECT_EQ(quote_literal(""), "''");
  EXPECT_THROW(quote_literal(std::string("\0", 1)), Error);
}

TEST(Ident, ParsesQualifiedNamesLikeTheServer) {
  EXPECT_EQ(parse_qualified_name("t"), (QualifiedName{"public", "t"}));
  EXPECT_EQ(parse_qualified_name("S.T"), (QualifiedName{"s", "t"}));
  EXPECT_EQ(parse_qualified_name("\"My Schema\".\"T.1\""), (QualifiedName{"My Schema", "T.1"}));
  EXPECT_EQ(parse_qualified_name("\"Odd \"\"Schema\"\"\".\"select\""), (QualifiedName{"Odd \"Schema\"", "select"}));
  EXPECT_THROW(parse_qualified_name("a.b.c"), Error);
  EXPECT_THROW(parse_qualified_name("\"unterminated"), Error);
  EXPECT_THROW(parse_qualified_name(""), Error);
}

TEST(Ident, FormatterQuotes) {
  EXPECT_EQ(fmt::format("{}", QualifiedName{"Odd \"S\"", "user"}), "\"Odd \"\"S\"\"\".\"user\"");
  EXPECT_EQ(fmt::format("{}", Ident{"Order"}), "\"Order\"");
}

TEST(Statements, RangePredicateSingleAndCompositeKeys) {
  KeySpec one{{"id"}, {"bigint"}};
  plan::KeyRange r{3, plan::KeyBound{{"-5"}}, plan::KeyBound{{"100"}}, 0};
  EXPECT_EQ(range_predicate(one, r), "\"id\" >= '-5'::bigint AND \"id\" < '100'::bigint");
  plan::KeyRange first{0, std::nullopt, plan::KeyBound{{"it's"}}, 0};
  KeySpec text{{"a b"}, {"text"}};
  EXPECT_EQ(range_predicate(text, first), "\"a b\" < 'it''s'::text");
  plan::KeyRange whole{0, std::nullopt, std::nullopt, 0};
  EXPECT_EQ(range_predicate(one, whole), "");
  KeySpec comp{{"Order", "group"}, {"integer", "character varying(10)"}};
  plan::KeyRange mid{1, plan::KeyBound{{"1", "x"}}, plan::KeyBound{{"2", "y\"z"}}, 0};
  EXPECT_EQ(range_predicate(comp, mid),
            "(\"Order\", \"group\") >= ('1'::integer, 'x'::character varying(10)) AND "
            "(\"Order\", \"group\") < ('2'::integer, 'y\"z'::character varying(10))");
}

TEST(Statements, CollatedKeysOrderAndCompareUnderC) {
  // A text column of a composite key compared under COLLATE "C" wherever an
  // order matters (ranges, samples, quantiles, ordered streams), never in key
  // sets (equality keeps the index).
  KeySpec comp{{"grp", "n"}, {"text", "integer"}, {true, false}};
  plan::KeyRange mid{1, plan::KeyBound{{"a", "1"}}, plan::KeyBound{{"b", "2"}}, 0};
  EXPECT_EQ(range_predicate(comp, mid),
            "(\"grp\" COLLATE \"C\", \"n\") >= ('a'::text, '1'::integer) AND "
            "(\"grp\" COLLATE \"C\", \"n\") < ('b'::text, '2'::integer)");
  KeySpec one{{"k"}, {"character varying(20)"}, {true}};
  plan::KeyRange upper{0, std::nullopt, plan::KeyBound{{"Z"}}, 0};
  EXPECT_EQ(range_predicate(one, upper), "\"k\" COLLATE \"C\" < 'Z'::character varying(20)");
  EXPECT_EQ(order_by_key(comp, "s."), "s.\"grp\" COLLATE \"C\", s.\"n\"");
  std::string sample = sample_keys({"public", "t"}, one, {"k"}, "");
  EXPECT_NE(sample.find("ORDER BY s.\"k\" COLLATE \"C\""), std::string::npos) << sample;
  std::string q = pgcutover::sql::diff::key_quantiles({"public", "t"}, one, upper, 10);
  EXPECT_NE(q.find("ORDER BY \"k\" COLLATE \"C\")"), std::string::npos) << q;
  std::string ordered = pgcutover::sql::verify::ordered_copy_out({"public", "t"}, {"k"}, one, upper, copybin::StreamFormat::Binary);
  EXPECT_NE(ordered.find("ORDER BY \"k\" COLLATE \"C\") TO STDOUT"), std::string::npos) << ordered;
  std::string del = pgcutover::sql::diff::delete_keys({"public", "t"}, one);
  EXPECT_EQ(del.find("COLLATE"), std::string::npos) << del;
}

TEST(Statements, CopyOutAndIn) {
  KeySpec key{{"id"}, {"uuid"}};
  plan::KeyRange r{0, plan::KeyBound{{"00000000-0000-0000-0000-000000000001"}}, std::nullopt, 0};
  EXPECT_EQ(copy_out({"Odd \"Schema\"", "user Table"}, {"id", "x\"y"}, key, r, copybin::StreamFormat::Binary),
            "COPY (SELECT \"id\", \"x\"\"y\" FROM ONLY \"Odd \"\"Schema\"\"\".\"user Table\" WHERE \"id\" >= "
            "'00000000-0000-0000-0000-000000000001'::uuid) TO STDOUT (FORMAT binary)");
  EXPECT_EQ(copy_in({"public", "select"}, {"a b", "group"}, copybin::StreamFormat::Text),
            "COPY \"public\".\"select\" (\"a b\", \"group\") FROM STDIN (FORMAT text)");
}

TEST(Statements, UpsertUpdatesEveryNonKeyColumn) {
  EXPECT_EQ(upsert_from_stage({"s", "t"}, "pg_temp.\"stage\"", {"k1", "k2", "v", "w"}, {"k1", "k2"}),
            "INSERT INTO \"s\".\"t\" AS t (\"k1\", \"k2\", \"v\", \"w\") OVERRIDING SYSTEM VALUE SELECT \"k1\", "
            "\"k2\", \"v\", \"w\" FROM pg_temp.\"stage\" ON CONFLICT (\"k1\", \"k2\") DO UPDATE SET \"v\" = "
            "EXCLUDED.\"v\", \"w\" = EXCLUDED.\"w\"");
  EXPECT_EQ(upsert_from_stage({"s", "t"}, "pg_temp.\"stage\"", {"k"}, {"k"}),
            "INSERT INTO \"s\".\"t\" AS t (\"k\") OVERRIDING SYSTEM VALUE SELECT \"k\" FROM pg_temp.\"stage\" ON "
            "CONFLICT (\"k\") DO NOTHING");
}

TEST(Statements, GuardedUpsertComparesRowsAsText) {
  EXPECT_EQ(upsert_from_stage({"s", "t"}, "pg_temp.\"stage\"", {"k", "v"}, {"k"}, true),
            "INSERT INTO \"s\".\"t\" AS t (\"k\", \"v\") OVERRIDING SYSTEM VALUE SELECT \"k\", \"v\" FROM "
            "pg_temp.\"stage\" ON CONFLICT (\"k\") DO UPDATE SET \"v\" = EXCLUDED.\"v\" WHERE ROW(t.\"k\", t.\"v\")::text "
            "IS DISTINCT FROM ROW(EXCLUDED.\"k\", EXCLUDED.\"v\")::text");
  // A differing change column decides first: no text form of the whole row for a changed row.
  EXPECT_EQ(upsert_from_stage({"s", "t"}, "pg_temp.\"stage\"", {"k", "v", "at"}, {"k"}, true, "at"),
            "INSERT INTO \"s\".\"t\" AS t (\"k\", \"v\", \"at\") OVERRIDING SYSTEM VALUE SELECT \"k\", \"v\", \"at\" "
            "FROM pg_temp.\"stage\" ON CONFLICT (\"k\") DO UPDATE SET \"v\" = EXCLUDED.\"v\", \"at\" = EXCLUDED.\"at\" "
            "WHERE t.\"at\" IS DISTINCT FROM EXCLUDED.\"at\" OR ROW(t.\"k\", t.\"v\", t.\"at\")::text IS DISTINCT FROM "
            "ROW(EXCLUDED.\"k\", EXCLUDED.\"v\", EXCLUDED.\"at\")::text");
}

TEST(Statements, MergeAndDeleteInsert) {
  EXPECT_EQ(merge_from_stage({"s", "t"}, "st", {"k", "v"}, {"k"}),
            "MERGE INTO \"s\".\"t\" AS t USING st AS s ON t.\"k\" = s.\"k\" WHEN MATCHED THEN UPDATE SET \"v\" = s.\"v\" "
            "WHEN NOT MATCHED THEN INSERT (\"k\", \"v\") OVERRIDING SYSTEM VALUE VALUES (s.\"k\", s.\"v\")");
  EXPECT_EQ(delete_matching_stage({"s", "t"}, "st", {"a", "b"}),
            "DELETE FROM \"s\".\"t\" AS t USING st AS s WHERE t.\"a\" = s.\"a\" AND t.\"b\" = s.\"b\"");
}

TEST(Statements, SampleOrdersByKeyNotByItsText) {
  std::string q = sample_keys({"public", "t"}, KeySpec{{"id"}, {"bigint"}}, {"id", "v"}, "TABLESAMPLE BERNOULLI (1.000000)");
  EXPECT_NE(q.find("ORDER BY s.\"id\""), std::string::npos) << q;
  EXPECT_NE(q.find("FROM ONLY \"public\".\"t\" AS s TABLESAMPLE"), std::string::npos) << q;
}
