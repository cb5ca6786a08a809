// Issue 22, point 7: drift the sync did not see. A DEFAULT partition split, a
// renamed enum label, a renamed index and constraint, a check constraint
// with a new definition, a domain's validated check and default, comments:
// detected and applied before the data (or after it, for what must see the
// data), so the schema dumps of both sides match afterwards and the rows are
// equal. And never half-applied: a failure among the before-data steps rolls
// back the enum label and the column of the same sync.
#include <gtest/gtest.h>

#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;

namespace {

const char *SCHEMA = R"SQL(
  CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
  CREATE DOMAIN code AS text CHECK (length(VALUE) < 20);
  CREATE TABLE ev (id int, at date NOT NULL, m mood, c code, qty int CONSTRAINT qty_ok CHECK (qty >= 0),
                   updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
  CREATE TABLE ev_2024 PARTITION OF ev FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
  CREATE TABLE ev_other PARTITION OF ev DEFAULT;
  CREATE INDEX ev_updated ON ev (updated_at);
  CREATE INDEX ev_m_idx ON ev (m);
  ALTER TABLE ev ADD CONSTRAINT ev_c_chk CHECK (c <> '');
  COMMENT ON TABLE ev IS 'events';
  INSERT INTO ev SELECT g, date '2024-01-01' + (g % 700), (ARRAY['sad','ok','happy']::mood[])[1 + g % 3], 'c' || g, g
    FROM generate_series(1, 3000) g;
)SQL";

const char *DRIFT = R"SQL(
  -- the DEFAULT partition split: 2025 gets its own partition, its rows moved with their old updated_at
  BEGIN;
  ALTER TABLE ev DETACH PARTITION ev_other;
  CREATE TABLE ev_2025 PARTITION OF ev FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
  INSERT INTO ev_2025 SELECT * FROM ev_other WHERE at >= '2025-01-01' AND at < '2026-01-01';
  DELETE FROM ev_other WHERE at >= '2025-01-01' AND at < '2026-01-01';
  ALTER TABLE ev ATTACH PARTITION ev_other DEFAULT;
  COMMIT;
  ALTER TYPE mood RENAME VALUE 'ok' TO 'fine';
  ALTER INDEX ev_m_idx RENAME TO ev_mood_idx;
  ALTER TABLE ev RENAME CONSTRAINT ev_c_chk TO ev_code_not_empty;
  ALTER TABLE ev DROP CONSTRAINT qty_ok, ADD CONSTRAINT qty_ok CHECK (qty >= 0 AND qty < 1000000);
  ALTER DOMAIN code ADD CONSTRAINT code_lower CHECK (VALUE = lower(VALUE));
  ALTER DOMAIN code SET DEFAULT 'none';
  COMMENT ON TABLE ev IS 'events, by year';
  COMMENT ON COLUMN ev.qty IS 'how many';
  UPDATE ev SET qty = qty + 1, updated_at = clock_timestamp() WHERE id % 10 = 0;
)SQL";

}  // namespace

TEST(Drift, ChangesTheSyncDidNotSeeAreAppliedBeforeTheData) {
  const std::string db = "driftreal";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(src, DRIFT);
  r = run_pgcutover({"plan", "--source", src, "--target", dst});
  EXPECT_NE(r.out.find("public.ev_2025"), std::string::npos) << r.out;
  for (const char *kind : {"enum_renamed", "renamed", "constraint_changed", "domain_changed", "comment_changed"})
    EXPECT_NE(r.out.find(kind), std::string::npos) << "plan does not show " << kind << "\n" << r.out;
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--final", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const char *kind : {"enum_renamed", "renamed", "constraint_changed", "domain_changed", "comment_changed"})
    EXPECT_NE(r.err.find(kind), std::string::npos) << kind << "\n" << r.err;
  hostile::CompareOptions o;
  o.indexes_and_constraints = true;
  EXPECT_EQ(hostile::report(hostile::compare_databases(src, dst, o)), "");
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src, dst, {}, o), 200), "");
}

TEST(Drift, AFailureBeforeTheDataLeavesNoneOfTheSyncsSchemaChanges) {
  const std::string db = "drifthalf";
  auto [src, dst] = real::fresh_databases(db);
  exec(src, SCHEMA);
  RunResult r = run_pgcutover({"copy", "--source", src, "--target", dst});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(src, "ALTER TYPE mood ADD VALUE 'angry'; ALTER TABLE ev ADD COLUMN note text DEFAULT md5(random()::text);"
            "CREATE TABLE ev_2026 PARTITION OF ev FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')");
  // The target refuses the new partition (a policy of its own): the sync stops before the data.
  exec(dst, R"SQL(
    CREATE FUNCTION public.no_new_tables() RETURNS event_trigger LANGUAGE plpgsql AS
      $$ BEGIN IF current_query() LIKE '%ev_2026%' THEN RAISE EXCEPTION 'no new tables here'; END IF; END $$;
    CREATE EVENT TRIGGER no_new_tables ON ddl_command_start WHEN TAG IN ('CREATE TABLE') EXECUTE FUNCTION public.no_new_tables();
    ALTER EVENT TRIGGER no_new_tables ENABLE ALWAYS;  -- the sync's writer runs with session_replication_role = replica
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s"});
  ASSERT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("public.ev_2026"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no new tables here"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_enum WHERE enumlabel = 'angry'"), "0") << "the label stayed";
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'ev'::regclass AND attname = 'note'"),
            "0") << "the column stayed";
  exec(dst, "DROP EVENT TRIGGER no_new_tables; DROP FUNCTION public.no_new_tables()");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "1s", "--final", "--deletes", "detect"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(hostile::report(hostile::compare_databases(src, dst)), "");
}
