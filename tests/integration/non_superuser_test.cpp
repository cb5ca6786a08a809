// A target role that owns the database and its tables but is not a superuser
// (a managed service's): it may not set session_replication_role, so the
// writers set the target's user triggers and foreign keys aside (recorded in
// the ledger) and restore them after the data, also when the run fails. No
// trigger fires, no cascade acts, and nothing stays disabled or dropped.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using namespace std::chrono_literals;

namespace {

const char *SCHEMA = R"SQL(
  CREATE TABLE parent (id int PRIMARY KEY, name text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON parent (updated_at);
  CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent (id) ON DELETE CASCADE, note text,
                      updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON child (updated_at);
  CREATE TABLE plain (id int PRIMARY KEY, v text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX ON plain (updated_at);
)SQL";

// What the team added on the target, as the database owner.
const char *TARGET_PREP = R"SQL(
  CREATE TABLE audit (tbl text, op text);
  CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN INSERT INTO public.audit VALUES (TG_TABLE_NAME, TG_OP); RETURN NULL; END $$;
  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN NEW.note := 'rewritten by the target'; RETURN NEW; END $$;
  CREATE TRIGGER parent_audit AFTER INSERT OR UPDATE OR DELETE ON parent FOR EACH ROW EXECUTE FUNCTION audit_row();
  CREATE TRIGGER child_touch BEFORE INSERT OR UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
  CREATE TRIGGER child_audit AFTER INSERT OR UPDATE OR DELETE ON child FOR EACH ROW EXECUTE FUNCTION audit_row();
  ALTER TABLE child ENABLE ALWAYS TRIGGER child_audit;
)SQL";

struct NonSuperuser : ::testing::Test {
  std::string db = "owner_only";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst_admin() { return target_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db, "app_owner"); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(target_cluster().conninfo(),
         "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_owner') THEN "
         "CREATE ROLE app_owner LOGIN NOSUPERUSER; END IF; END $$");
    exec(target_cluster().conninfo(), "ALTER DATABASE " + db + " OWNER TO app_owner");
    exec(dst_admin(), "ALTER SCHEMA public OWNER TO app_owner");
    exec(src(), SCHEMA);
    exec(src(), R"SQL(
      INSERT INTO parent (id, name) SELECT 1000 + g, 'p' || g FROM generate_series(1, 50) g;
      INSERT INTO child (id, parent_id, note) SELECT g, 1000 + (g % 50) + 1, 'n' || g FROM generate_series(1, 500) g;
      INSERT INTO plain (id, v) SELECT g, 'v' || g FROM generate_series(1, 100) g;
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
    EXPECT_EQ(table_digest(src(), table, "id"), table_digest(dst_admin(), table, "id")) << when << ": " << table;
  }
  void expect_nothing_fired(const std::string &when) {
    EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM audit"), "0")
        << when << ": a user trigger fired: " << query_value(dst_admin(), "SELECT string_agg(tbl || ' ' || op, ', ') FROM audit");
    EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM child WHERE note = 'rewritten by the target'"), "0")
        << when << ": a BEFORE trigger rewrote rows";
  }
  // Every trigger as it was, the foreign key back and validated, nothing left recorded.
  void expect_restored(const std::string &when) {
    EXPECT_EQ(query_value(dst_admin(), "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger "
                                       "WHERE NOT tgisinternal"),
              "child_audit=A,child_touch=O,parent_audit=O")
        << when;
    EXPECT_EQ(query_value(dst_admin(), "SELECT string_agg(conname || ' ' || convalidated || ' ' || pg_get_constraintdef(oid), ',') "
                                       "FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace"),
              "child_parent_id_fkey true FOREIGN KEY (parent_id) REFERENCES parent(id) ON DELETE CASCADE")
        << when;
    EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM pgcutover.set_aside"), "0") << when;
  }
};

}  // namespace

TEST_F(NonSuperuser, OwnerCopiesAndSyncsWithTriggersAndForeignKeysSetAsideThenRestored) {
  ASSERT_EQ(query_value(dst(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"), "f");
  RunResult r = tool("copy", {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("set aside during the writes and restored after"), std::string::npos) << r.err;
  for (const char *t : {"parent", "child", "plain"}) expect_same(t, "after copy");
  expect_nothing_fired("copy");
  expect_restored("after copy");

  std::this_thread::sleep_for(50ms);
  exec(src(), R"SQL(
    UPDATE child SET note = 'changed', updated_at = clock_timestamp() WHERE id % 10 = 0;
    DELETE FROM parent WHERE id = 1001;  -- its children go with it on the source (cascade)
    INSERT INTO parent (id, name) VALUES (5000, 'new');
    INSERT INTO child (id, parent_id, note) VALUES (5000, 5000, 'new child');
  )SQL");
  // The target's cascade must not act when delete detection removes the parent:
  // child 50 of parent 1001 is deleted because the source deleted it, not by cascade,
  // and a child the source still has under a target-only parent stays.
  exec(dst_admin(), "SET session_replication_role = replica; INSERT INTO parent (id, name) VALUES (9999, 'target only');"
                    "UPDATE child SET parent_id = 9999 WHERE id = 7; DELETE FROM audit");  // child_audit is ALWAYS: it fired here
  exec(src(), "UPDATE child SET parent_id = 1002, updated_at = clock_timestamp() WHERE id = 7");
  r = tool("sync", {"--overlap", "1s", "--deletes", "detect", "--final"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  for (const char *t : {"parent", "child", "plain"}) expect_same(t, "after sync");
  expect_nothing_fired("sync");
  expect_restored("after sync");
}

// A change set large enough to be split, most of it new rows: the new keys
// are written with a plain COPY (no stage), on a table whose BEFORE trigger,
// ALWAYS audit trigger and foreign key the owner role sets aside. The COPY
// must fire none of them and leave them restored, like the merge.
TEST_F(NonSuperuser, NewKeysCopiedStraightInFireNothingAndLeaveEverythingRestored) {
  RunResult r = tool("copy", {"--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(50ms);
  exec(src(), R"SQL(
    UPDATE child SET note = repeat('u', 200), updated_at = clock_timestamp() WHERE id % 2 = 0;
    INSERT INTO child (id, parent_id, note) SELECT g, 1000 + (g % 50) + 1, repeat('n', 200) FROM generate_series(501, 40500) g;
    ANALYZE child;
  )SQL");
  r = tool("sync", {"--overlap", "1s", "--jobs", "2", "--table", "public.child", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["tables"].size(), 1u) << r.out;
  EXPECT_EQ(j["tables"][0]["rows_appended"], 40000) << "the new keys were not written with a plain COPY\n" << r.out;
  expect_same("child", "after sync");
  expect_nothing_fired("sync");
  expect_restored("after sync");
}

TEST_F(NonSuperuser, AFailedSyncRestoresWhatItSetAside) {
  RunResult r = tool("copy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::this_thread::sleep_for(50ms);
  exec(src(), "UPDATE plain SET v = 'changed', updated_at = clock_timestamp() WHERE id < 5;"
              "UPDATE child SET note = 'changed', updated_at = clock_timestamp() WHERE id < 5");
  // A lock on a table with nothing to set aside: the sync sets the others
  // aside, then fails in its data phase.
  std::atomic<bool> release{false};
  std::thread holder([&] {
    exec(dst_admin(), "BEGIN; LOCK TABLE plain IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT");
  });
  std::this_thread::sleep_for(500ms);
  r = tool("sync", {"--overlap", "1s", "--lock-timeout", "1s"});
  holder.join();
  EXPECT_NE(r.exit_code, 0) << r.err;
  expect_restored("after a failed sync");
  expect_nothing_fired("failed sync");
  r = tool("sync", {"--overlap", "1s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *t : {"parent", "child", "plain"}) expect_same(t, "after the rerun");
  expect_restored("after the rerun");
}

TEST_F(NonSuperuser, ARoleThatDoesNotOwnTheTablesIsRefusedBeforeAnyWrite) {
  exec(target_cluster().conninfo(),
       "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'app_writer') THEN "
       "CREATE ROLE app_writer LOGIN NOSUPERUSER; END IF; END $$");
  exec(dst_admin(), "GRANT ALL ON ALL TABLES IN SCHEMA public TO app_writer; GRANT CREATE ON DATABASE " + db + " TO app_writer");
  RunResult r = run_pgcutover({"copy", "--source", src(), "--target", target_cluster().conninfo(db, "app_writer")});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("nor does it own"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("public.child"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM child"), "0");
  EXPECT_EQ(query_value(dst_admin(), "SELECT string_agg(tgname || '=' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger "
                                     "WHERE NOT tgisinternal"),
            "child_audit=A,child_touch=O,parent_audit=O");
}

// What a killed run leaves (a trigger disabled and a foreign key dropped, each
// recorded in the ledger) is restored by the next run before it writes.
TEST_F(NonSuperuser, TheNextRunRestoresWhatAKilledRunLeftSetAside) {
  RunResult r = tool("copy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The state a run killed between its set-aside and its restore leaves behind,
  // written the way the tool writes it (record and change in one transaction).
  exec(dst(), R"SQL(
    BEGIN;
    SET LOCAL search_path = pg_catalog;  -- the tool's sessions: definitions schema-qualified
    INSERT INTO pgcutover.set_aside (kind, table_schema, table_name, name, definition)
      VALUES ('trigger', 'public', 'child', 'child_touch', 'O'),
             ('foreign_key', 'public', 'child', 'child_parent_id_fkey',
              pg_get_constraintdef((SELECT oid FROM pg_constraint WHERE conname = 'child_parent_id_fkey')));
    ALTER TABLE public.child DISABLE TRIGGER child_touch;
    ALTER TABLE public.child DROP CONSTRAINT child_parent_id_fkey;
    COMMIT;
  )SQL");
  ASSERT_EQ(query_value(dst_admin(), "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conname = 'child_parent_id_fkey'"), "0");
  std::this_thread::sleep_for(50ms);
  exec(src(), "UPDATE plain SET v = 'changed', updated_at = clock_timestamp() WHERE id < 5");
  r = tool("sync", {"--overlap", "1s", "--table", "public.plain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("restoring 2 trigger(s), foreign key(s) and NOT VALID check(s) set aside"), std::string::npos) << r.err;
  expect_restored("after the run that followed a killed one");
  expect_same("plain", "after the sync");
}

// `finish` after a killed run: the triggers and foreign keys it left set aside
// come back before the tool's schema (and their record) is removed.
TEST_F(NonSuperuser, FinishRestoresWhatAKilledRunLeftSetAsideBeforeRemovingTheLedger) {
  RunResult r = tool("copy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(dst(), R"SQL(
    BEGIN;
    INSERT INTO pgcutover.set_aside (kind, table_schema, table_name, name, definition)
      VALUES ('trigger', 'public', 'parent', 'parent_audit', 'O');
    ALTER TABLE public.parent DISABLE TRIGGER parent_audit;
    COMMIT;
  )SQL");
  r = run_pgcutover({"finish", "--target", dst()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgcutover'"), "0");
  EXPECT_EQ(query_value(dst_admin(), "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'parent_audit'"), "O");
}

// Issue 23, point 3 (a): a foreign key that fails its VALIDATE stays recorded
// (re-created NOT VALID, its VALIDATE due) until a VALIDATE succeeds. A sync
// of the parent alone deletes a parent whose children it does not sync.
TEST_F(NonSuperuser, AFailedValidationStaysRecordedUntilAValidateSucceeds) {
  RunResult r = tool("copy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(src(), "DELETE FROM parent WHERE id = 1001");  // its children go with it on the source
  r = tool("sync", {"--overlap", "1s", "--table", "public.parent", "--deletes", "detect"});
  EXPECT_NE(r.exit_code, 0) << "the children of the deleted parent should fail the foreign key's VALIDATE\n" << r.err;
  EXPECT_NE(r.err.find("validating foreign key \"child_parent_id_fkey\""), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst_admin(), "SELECT string_agg(kind || ' ' || name || ' ' || state, ',') FROM pgcutover.set_aside"),
            "foreign_key child_parent_id_fkey recreated")
      << "the record went before the VALIDATE it is for";
  EXPECT_EQ(query_value(dst_admin(), "SELECT convalidated FROM pg_constraint WHERE conname = 'child_parent_id_fkey'"), "f");
  // The owner deletes the orphans; the next run validates, and only then forgets.
  exec(dst_admin(), "DELETE FROM child WHERE parent_id = 1001");
  r = tool("sync", {"--overlap", "1s", "--table", "public.plain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_restored("after the run that followed the failed validation");
}

// (b) The first SIGINT stops the run and restores what it set aside: the
// restore is part of stopping.
TEST_F(NonSuperuser, ASignalStopsTheRunAndRestoresWhatItSetAside) {
  // About 120 MB in 1 MB ranges on one job: a few seconds of copying on a
  // fast machine, so the signal lands mid-copy (checked below).
  exec(src(), "INSERT INTO plain (id, v) SELECT g, repeat(md5(g::text), 6) FROM generate_series(1000, 600000) g");
  PgcutoverProcess p({"copy", "--source", src(), "--target", dst(), "--jobs", "1", "--range-bytes", "1MB"});
  ASSERT_TRUE(p.wait_for_output("copying 3 table(s)", 60)) << p.err_so_far();
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(p.running()) << "the copy ended before the signal: the test proves nothing";
  ASSERT_NE(query_value(dst_admin(), "SELECT count(*) FROM pgcutover.set_aside"), "0") << "nothing was set aside";
  p.send_signal(SIGINT);
  RunResult r = p.wait(60);
  EXPECT_EQ(r.exit_code, 130) << r.err;
  expect_restored("right after the interrupted copy");
  r = tool("copy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_same("plain", "after the rerun");
  expect_nothing_fired("the rerun");
}

// (c) A foreign key on a partitioned table (here the target's own, pointing
// at a synced table) cannot come back NOT VALID before PostgreSQL 18: it is
// re-created validated at once, timed.
TEST_F(NonSuperuser, AForeignKeyOnAPartitionedTableComesBackValidated) {
  exec(dst(), "CREATE TABLE orders (id int, parent_id int REFERENCES parent (id)) PARTITION BY RANGE (id);"
              "CREATE TABLE orders_1 PARTITION OF orders FOR VALUES FROM (0) TO (1000000)");
  RunResult r = tool("copy", {"--table", "public.parent", "--table", "public.child", "--table", "public.plain"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(dst_admin(), "INSERT INTO orders VALUES (1, 1001)");  // the key acts again
  EXPECT_EQ(query_value(dst_admin(), "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_parent_id_fkey' "
                                     "AND conrelid = 'orders'::regclass"), "t");
  EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM pgcutover.set_aside"), "0");
  int major = std::stoi(query_value(dst_admin(), "SHOW server_version_num")) / 10000;
  if (major < 18) EXPECT_NE(r.err.find("re-created validated at once"), std::string::npos) << r.err;
  EXPECT_ANY_THROW(exec(dst_admin(), "INSERT INTO orders VALUES (2, 424242)")) << "the foreign key does not act";
}

// (d) A second process joining the job does not restore what the first set
// aside while the first still writes: the last one out restores it.
TEST_F(NonSuperuser, ASecondProcessOfTheJobLeavesTheSetAsideToTheLastOut) {
  exec(src(), "INSERT INTO plain (id, v) SELECT g, repeat(md5(g::text), 6) FROM generate_series(1000, 150000) g");
  exec(dst(), "CREATE TRIGGER plain_audit AFTER INSERT ON plain FOR EACH ROW EXECUTE FUNCTION audit_row()");
  std::vector<std::string> args = {"copy", "--source", src(), "--target", dst(), "--jobs", "1", "--range-bytes", "1MB"};
  PgcutoverProcess a(args);
  ASSERT_TRUE(a.wait_for_output("copying 3 table(s)", 60)) << a.err_so_far();
  PgcutoverProcess b(args);
  ASSERT_TRUE(b.wait_for_output("resuming job", 60)) << b.err_so_far();
  ASSERT_TRUE(a.running()) << "the first process ended before the second joined: the test proves nothing";
  RunResult ra = a.wait(180), rb = b.wait(180);
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  expect_same("plain", "after both processes");
  EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM audit"), "0")
      << "a trigger fired on the first process's rows after the second joined";
  EXPECT_EQ(query_value(dst_admin(), "SELECT tgenabled::text FROM pg_trigger WHERE tgname = 'plain_audit'"), "O");
  EXPECT_EQ(query_value(dst_admin(), "SELECT count(*) FROM pgcutover.set_aside"), "0");
}
