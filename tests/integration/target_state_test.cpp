// Target states: rows land as the source has them whatever the target was
// prepared with. Foreign keys filled children before parents, user triggers
// that must not fire (copy, sync, repair), ON DELETE CASCADE that must not act
// on delete detection, unique values swapped between rows in one sync, a
// table without columns.
#include <gtest/gtest.h>

#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

// The schema both sides share; the target adds what a team adds (triggers,
// a cascade where the source has none).
const char *SCHEMA = R"SQL(
  CREATE TABLE parent (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON parent (updated_at);
  CREATE TABLE child (id int PRIMARY KEY, parent_id int, badge int NOT NULL UNIQUE, note text,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON child (updated_at);
)SQL";

const char *TARGET_PREP = R"SQL(
  -- children before parents would fail this one (the source's ids point at low parents)
  ALTER TABLE child ADD CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE;
  CREATE TABLE audit (tbl text, op text);
  CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.audit VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN NEW.note := 'rewritten by the target'; RETURN NEW; END $$;
  CREATE TRIGGER parent_audit AFTER INSERT OR UPDATE OR DELETE ON parent FOR EACH ROW EXECUTE FUNCTION audit_row();
  CREATE TRIGGER child_audit AFTER INSERT OR UPDATE OR DELETE ON child FOR EACH ROW EXECUTE FUNCTION audit_row();
  CREATE TRIGGER child_touch BEFORE INSERT OR UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
)SQL";

struct TargetState : ::testing::Test {
  std::string db = "tstate";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), SCHEMA);
    // Parents with high ids, children with low ids pointing at them: a copy
    // in key order writes children first whatever the table order.
    exec(src(), R"SQL(
      INSERT INTO parent (id, name) SELECT 1000 + g, 'p' || g FROM generate_series(1, 50) g;
      INSERT INTO child (id, parent_id, badge, note) SELECT g, 1000 + (g % 50) + 1, g, 'n' || g FROM generate_series(1, 500) g;
      ANALYZE;
    )SQL");
    exec(dst(), SCHEMA);
    exec(dst(), TARGET_PREP);
  }

  RunResult tool(const std::string &cmd, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {cmd, "--source", src(), "--target", dst()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  void expect_same(const std::string &table, const std::string &when) {
    EXPECT_EQ(table_digest(src(), table, "id"), table_digest(dst(), table, "id")) << when << ": " << table;
  }
  void expect_no_trigger_fired(const std::string &when) {
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM audit"), "0") << when << ": a user trigger fired on the target";
    EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM child WHERE note = 'rewritten by the target'"), "0")
        << when << ": a BEFORE trigger rewrote rows on the target";
  }
  void copy_base() {
    RunResult r = tool("copy", {"--jobs", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(50ms);
  }
};

TEST_F(TargetState, CopyIntoPreparedTargetFillsChildrenBeforeParentsWithoutTriggers) {
  RunResult r = tool("copy", {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("session_replication_role = replica"), std::string::npos) << r.out;
  expect_same("parent", "copy");
  expect_same("child", "copy");
  expect_no_trigger_fired("copy");
}

TEST_F(TargetState, SyncAndRepairFireNoTrigger) {
  copy_base();
  exec(src(), "UPDATE child SET note = 'changed', updated_at = clock_timestamp() WHERE id % 10 = 0;"
              "INSERT INTO parent (id, name) VALUES (2000, 'new');"
              "INSERT INTO child (id, parent_id, badge, note) VALUES (1000, 2000, 1000, 'new child');");
  RunResult s = tool("sync", {"--allow-scan", "--overlap", "100ms"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  expect_same("parent", "sync");
  expect_same("child", "sync");
  expect_no_trigger_fired("sync");

  exec(dst(), "SET session_replication_role = replica; UPDATE child SET note = 'wrong' WHERE id = 7;"
              "DELETE FROM child WHERE id = 8; INSERT INTO child (id, parent_id, badge) VALUES (9999, 1001, 9999);");
  RunResult v = tool("verify", {"--mode", "full", "--repair"});
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  expect_same("child", "verify --repair");
  expect_no_trigger_fired("verify --repair");
}

TEST_F(TargetState, DeleteDetectionDoesNotCascade) {
  copy_base();
  // On the source the parent goes, its children stay (the source has no FK).
  exec(src(), "DELETE FROM parent WHERE id = 1001");
  RunResult s = tool("sync", {"--allow-scan", "--overlap", "100ms", "--deletes", "detect"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  expect_same("parent", "sync --deletes detect");
  expect_same("child", "sync --deletes detect (ON DELETE CASCADE on the target must not act)");
  expect_no_trigger_fired("sync --deletes detect");
}

TEST_F(TargetState, UniqueValuesSwappedBetweenRowsSync) {
  copy_base();
  exec(src(), R"SQL(
    BEGIN;
    UPDATE child SET badge = -1, updated_at = clock_timestamp() WHERE id = 11;
    UPDATE child SET badge = 11, updated_at = clock_timestamp() WHERE id = 12;
    UPDATE child SET badge = 12, updated_at = clock_timestamp() WHERE id = 11;
    COMMIT;
    -- a value freed by one row and taken by another
    UPDATE child SET badge = 100000, updated_at = clock_timestamp() WHERE id = 30;
    UPDATE child SET badge = 30, updated_at = clock_timestamp() WHERE id = 31;
  )SQL");
  RunResult s = tool("sync", {"--allow-scan", "--overlap", "100ms"});
  ASSERT_EQ(s.exit_code, 0) << s.out << s.err;
  expect_same("child", "sync of swapped unique values");
  RunResult f = tool("sync", {"--allow-scan", "--overlap", "100ms", "--final"});
  ASSERT_EQ(f.exit_code, 0) << f.out << f.err;
  expect_same("child", "sync --final");
}

TEST_F(TargetState, ZeroColumnTableIsCopied) {
  exec(src(), "CREATE TABLE nothing (); INSERT INTO nothing DEFAULT VALUES; INSERT INTO nothing DEFAULT VALUES;"
              "INSERT INTO nothing DEFAULT VALUES;");
  recreate_database(target_cluster(), db);
  RunResult r = tool("copy", {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM public.nothing"), "3");
  expect_same("child", "copy next to a zero-column table");
}

}  // namespace
