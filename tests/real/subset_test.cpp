// Issue 22, point 3: a table subset carries what it needs. `copy --table X`
// into an empty target creates everything X's definition depends on (found
// through pg_dump's dependencies, from pg_depend): schemas, types of every
// kind, sequences its defaults call (owned by another table or by none),
// functions of defaults, checks, generated columns and triggers, collations,
// extensions. A foreign key's parent left out is refused up front by name
// (or taken with --with-fk-parents); a leaf partition named alone gets its
// parent, or is refused when the target's shape differs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;

namespace {

struct Subset : ::testing::Test {
  std::string db = "subset";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
  }
  RunResult copy(std::vector<std::string> extra) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  std::string count(const std::string &sql) { return query_value(dst(), sql); }
};

const char *NEEDS = R"SQL(
  CREATE SCHEMA ext;
  CREATE EXTENSION citext SCHEMA ext;
  CREATE SCHEMA app;
  CREATE SCHEMA other;
  CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
  CREATE TYPE app.pair AS (a int, b text);
  CREATE DOMAIN app.positive AS numeric(10, 2) CHECK (VALUE > 0);
  CREATE TYPE app.floatrange AS RANGE (subtype = float8);
  CREATE TYPE app.mytext;
  CREATE FUNCTION app.mytext_in(cstring) RETURNS app.mytext AS 'textin' LANGUAGE internal IMMUTABLE STRICT;
  CREATE FUNCTION app.mytext_out(app.mytext) RETURNS cstring AS 'textout' LANGUAGE internal IMMUTABLE STRICT;
  CREATE TYPE app.mytext (INPUT = app.mytext_in, OUTPUT = app.mytext_out, LIKE = text);
  CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
  CREATE TABLE app.owner_of_seq (id int);
  CREATE SEQUENCE app.shared_seq OWNED BY app.owner_of_seq.id;
  CREATE SEQUENCE app.free_seq START 1000;
  CREATE SEQUENCE app.atomic_seq;
  -- A SQL-standard body records what it uses in pg_depend; a string body does not.
  CREATE FUNCTION app.default_code() RETURNS text LANGUAGE sql VOLATILE BEGIN ATOMIC SELECT 'c-' || nextval('app.atomic_seq'); END;
  CREATE FUNCTION app.is_even(int) RETURNS bool LANGUAGE sql IMMUTABLE AS $$ SELECT $1 % 2 = 0 $$;
  CREATE FUNCTION app.twice(int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT $1 * 2 $$;
  CREATE FUNCTION app.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := coalesce(NEW.note, 'x'); RETURN NEW; END $$;
  CREATE TABLE app.x (
    id bigint PRIMARY KEY DEFAULT nextval('app.shared_seq'),
    ticket bigint DEFAULT nextval('app.free_seq'),
    code text DEFAULT app.default_code(),
    mood app.mood, moods app.mood[], pair app.pair, amount app.positive, span app.floatrange,
    raw app.mytext, email ext.citext, name text COLLATE app.ci,
    even int CHECK (app.is_even(even)),
    doubled int GENERATED ALWAYS AS (app.twice(even)) STORED,
    note text);
  CREATE TRIGGER x_stamp BEFORE INSERT OR UPDATE ON app.x FOR EACH ROW EXECUTE FUNCTION app.stamp();
  CREATE TABLE app.unrelated (id int PRIMARY KEY);
  INSERT INTO app.x (mood, moods, pair, amount, span, raw, email, name, even)
    SELECT 'ok', ARRAY['sad', 'happy']::app.mood[], ROW(g, 'p' || g)::app.pair, g + 0.5, app.floatrange(g, g + 1),
           ('r' || g)::text::app.mytext, 'Mail' || g || '@X', 'Name' || g, g * 2
      FROM generate_series(1, 2000) g;
)SQL";

}  // namespace

TEST_F(Subset, ATableAloneGetsEverythingItsDefinitionNeeds) {
  exec(src(), NEEDS);
  RunResult r = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--table", "app.x"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  r = copy({"--table", "app.x"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::table_rows(src(), "app.x"), hostile::table_rows(dst(), "app.x"));
  // What it needs is there; what it does not need is not.
  EXPECT_EQ(count("SELECT count(*) FROM pg_trigger WHERE tgname = 'x_stamp'"), "1");
  EXPECT_EQ(count("SELECT count(*) FROM pg_extension WHERE extname = 'citext'"), "1");
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname IN ('shared_seq', 'free_seq', 'atomic_seq')"), "3");
  EXPECT_EQ(count("SELECT to_regclass('app.unrelated') IS NULL"), "t");
  // The table that owns a sequence the copy needs comes along, empty, and the run says so.
  EXPECT_EQ(count("SELECT count(*) FROM app.owner_of_seq"), "0");
  EXPECT_NE(r.err.find("app.owner_of_seq is created empty"), std::string::npos) << r.err;
  // The definitions work on the target: a new row takes every default, check and trigger.
  exec(dst(), "INSERT INTO app.x (even) VALUES (4)");
  EXPECT_EQ(count("SELECT code LIKE 'c-%' AND note = 'x' AND doubled = 8 FROM app.x WHERE even = 4 AND id > 2000"), "t");
  // A rerun converges: the job is finished, nothing is created twice.
  r = copy({"--table", "app.x"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  // Another table that needs some of the same objects: only what is missing is created.
  exec(src(), "CREATE TABLE app.y (id bigint PRIMARY KEY DEFAULT nextval('app.shared_seq'), mood app.mood)");
  r = copy({"--table", "app.y"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
}

TEST_F(Subset, AForeignKeyParentLeftOutIsRefusedOrTaken) {
  const char *schema = R"SQL(
    CREATE TABLE parent (id int PRIMARY KEY, name text);
    CREATE TABLE child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent);
    INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 2000) g;
    INSERT INTO child SELECT g, g FROM generate_series(1, 2000) g;
  )SQL";
  exec(src(), schema);
  RunResult r = copy({"--table", "public.child"});
  ASSERT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("public.parent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--with-fk-parents"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT to_regclass('public.child') IS NULL"), "t") << "the refused table was created";
  r = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--table", "public.child"});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE(r.out.find("public.parent"), std::string::npos) << r.out;

  r = copy({"--table", "public.child", "--with-fk-parents"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src(), dst())), "");
  EXPECT_EQ(count("SELECT convalidated FROM pg_constraint WHERE conname = 'child_parent_id_fkey'"), "t");
  EXPECT_EQ(count("SELECT count(*) FROM child c WHERE NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.parent_id)"), "0");

  // A target made beforehand whose parent is empty: the child alone is refused too
  // (as superuser its rows would go in with the key bypassed, the key still marked valid).
  recreate_database(target_cluster(), db);
  exec(dst(), schema);
  exec(dst(), "TRUNCATE child, parent");
  r = copy({"--table", "public.child"});
  ASSERT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("public.parent"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT count(*) FROM child"), "0");
}

TEST_F(Subset, ALeafPartitionNamedAlone) {
  const char *schema = R"SQL(
    CREATE TABLE sales (id int, sold date NOT NULL, amount numeric, PRIMARY KEY (id, sold)) PARTITION BY RANGE (sold);
    CREATE TABLE sales_2023 PARTITION OF sales FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
    CREATE TABLE sales_2024 PARTITION OF sales FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE INDEX ON sales (amount);
    INSERT INTO sales SELECT g, date '2023-01-01' + g % 700, g FROM generate_series(1, 3000) g;
  )SQL";
  exec(src(), schema);
  // Into an empty target: the parent comes with it, the leaf is attached.
  RunResult r = copy({"--table", "public.sales_2024"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::table_rows(src(), "public.sales_2024"), hostile::table_rows(dst(), "public.sales_2024"));
  EXPECT_EQ(count("SELECT count(*) FROM pg_inherits WHERE inhrelid = 'sales_2024'::regclass"
                  " AND inhparent = 'sales'::regclass"),
            "1");
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE tablename = 'sales_2024'"), "2");
  EXPECT_EQ(count("SELECT to_regclass('public.sales_2023') IS NULL"), "t");
  r = copy({"--table", "public.sales_2024"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;

  // A target where the leaf is a plain table: refused by name, by plan and copy, nothing created.
  recreate_database(target_cluster(), db);
  exec(dst(), "CREATE TABLE sales_2024 (id int, sold date NOT NULL, amount numeric, PRIMARY KEY (id, sold))");
  r = run_pgcutover({"plan", "--source", src(), "--target", dst(), "--table", "public.sales_2024"});
  EXPECT_EQ(r.exit_code, 3) << r.err << r.out;
  EXPECT_NE(r.out.find("refused: public.sales_2024"), std::string::npos) << r.out;
  r = copy({"--table", "public.sales_2024"});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("public.sales_2024"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE 'sales%' AND relkind IN ('r', 'p')"), "1");

  // A target where the parent is a plain table: the same.
  recreate_database(target_cluster(), db);
  exec(dst(), "CREATE TABLE sales (id int, sold date NOT NULL, amount numeric)");
  r = copy({"--table", "public.sales_2024"});
  EXPECT_EQ(r.exit_code, 2) << r.err << r.out;
  EXPECT_NE(r.err.find("public.sales"), std::string::npos) << r.err;
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE 'sales%' AND relkind IN ('r', 'p')"), "1");
}
