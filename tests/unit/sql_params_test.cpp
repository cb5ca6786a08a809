// The array encoder, key sets sent as parameters, and typed-name statements.
#include <gtest/gtest.h>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/diff.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/sql/verify.hpp"

using namespace pgcutover;
using namespace pgcutover::sql;

TEST(ArrayLiteral, QuotesEveryElementAndEscapes) {
  EXPECT_EQ(array_literal({}), "{}");
  EXPECT_EQ(array_literal({"a", ""}), "{\"a\",\"\"}");
  EXPECT_EQ(array_literal({"NULL", "x,y", "{z}"}), "{\"NULL\",\"x,y\",\"{z}\"}");
  EXPECT_EQ(array_literal({"q\"q", "b\\s"}), "{\"q\\\"q\",\"b\\\\s\"}");
}

TEST(KeySets, TravelAsOneTextArrayPerKeyColumn) {
  KeySpec comp{{"Order", "group"}, {"integer", "character varying(10)"}};
  std::vector<sql::KeyValue> keys{{{"1", "x"}}, {{"2", "y\"z"}}};
  EXPECT_EQ(key_set_params(comp, keys), (std::vector<std::string>{"{\"1\",\"2\"}", "{\"x\",\"y\\\"z\"}"}));
  EXPECT_EQ(diff::delete_keys({"s", "t"}, comp),
            "DELETE FROM ONLY \"s\".\"t\" WHERE (\"Order\", \"group\") IN (SELECT u.k1::integer, "
            "u.k2::character varying(10) FROM unnest($1::text[], $2::text[]) AS u(k1, k2))");
  KeySpec one{{"id"}, {"bigint"}};
  EXPECT_EQ(diff::rows_by_keys({"s", "t"}, {"id", "v"}, one),
            "SELECT \"id\"::text, \"id\"::text, \"v\"::text FROM ONLY \"s\".\"t\" WHERE \"id\" IN (SELECT "
            "u.k1::bigint FROM unnest($1::text[]) AS u(k1))");
}

TEST(KeySets, CopyTakesLiterals) {
  KeySpec one{{"id"}, {"bigint"}};
  EXPECT_EQ(verify::copy_out_keys({"s", "t"}, {"id"}, one, {sql::KeyValue{{"1"}}, sql::KeyValue{{"it's"}}},
                                  copybin::StreamFormat::Text),
            "COPY (SELECT \"id\" FROM ONLY \"s\".\"t\" WHERE \"id\" IN ('1'::bigint, 'it''s'::bigint)) TO STDOUT "
            "(FORMAT text)");
}

TEST(Ledger, SchemaIsQuotedFromItsRawName) {
  EXPECT_EQ(ledger::count_pending(Ident{"My \"Tool\""}),
            "SELECT count(*) FROM \"My \"\"Tool\"\"\".\"ranges\" WHERE job = $1 AND state <> 'done'");
}
