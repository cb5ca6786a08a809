// Issue 22, point 4: every rerun converges. A failure is injected at each
// phase of a whole-database copy of the rental shop (pre-data, data,
// post-data at two kinds of items) by an event trigger on the target that
// refuses one kind of statement from pg_restore, or one table's rows, while a
// database setting names it; the same command, rerun after each, goes on
// from where the last one stopped, and the last run finishes the job: the
// independent comparison and the schema dumps show the target equal to the
// source. Also: a --format given to a resumed job applies to its pending
// ranges, a changed --strategy is refused with what to do, and --restart
// starts over on tables the job created (key-less ones included).
#include <gtest/gtest.h>

#include "hostile.hpp"
#include "pg_cluster.hpp"
#include "real.hpp"

using namespace pgcutover::testing;

namespace {

// On the target, outside the application's schemas: refuses pg_restore's
// statements of the tag in chaos.fail_tag, and (fail_tag = 'DATA') the rows
// of public.rental, through an ALWAYS trigger added when pg_restore creates it.
const char *CHAOS = R"SQL(
  CREATE SCHEMA chaos;
  CREATE FUNCTION chaos.refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$
  BEGIN
    -- pg_restore run by pgcutover carries the tool's application_name
    IF current_setting('application_name') IN ('pg_restore', 'pgcutover')
       AND tg_tag = current_setting('chaos.fail_tag', true) THEN
      RAISE EXCEPTION 'chaos: % refused by the test', tg_tag;
    END IF;
  END $$;
  CREATE FUNCTION chaos.row_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF current_setting('chaos.fail_tag', true) = 'DATA' THEN RAISE EXCEPTION 'chaos: rows refused by the test'; END IF;
    RETURN NEW;
  END $$;
  CREATE FUNCTION chaos.arm() RETURNS event_trigger LANGUAGE plpgsql AS $$
  DECLARE o record;
  BEGIN
    FOR o IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE'
                                                           AND object_identity = 'public.rental' LOOP
      EXECUTE 'CREATE TRIGGER chaos_rows BEFORE INSERT ON public.rental FOR EACH ROW EXECUTE FUNCTION chaos.row_refuse()';
      EXECUTE 'ALTER TABLE public.rental ENABLE ALWAYS TRIGGER chaos_rows';
    END LOOP;
  END $$;
  CREATE EVENT TRIGGER chaos_refuse ON ddl_command_start EXECUTE FUNCTION chaos.refuse();
  CREATE EVENT TRIGGER chaos_arm ON ddl_command_end EXECUTE FUNCTION chaos.arm();
)SQL";

struct Rerun : ::testing::Test {
  std::string db = "rerun";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }
  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
  }
  void fail_at(const std::string &tag) {
    exec(target_cluster().conninfo(), "ALTER DATABASE " + db + " SET chaos.fail_tag = '" + tag + "'");
  }
  RunResult copy(std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"copy", "--source", src(), "--target", dst()};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
};

}  // namespace

TEST_F(Rerun, AFailureAtEveryPhaseThenTheSameCommandFinishesTheJob) {
  real::create_roles(target_cluster().conninfo(), {"rental_app", "rental_readonly"});
  exec(source_cluster().conninfo(), "ALTER DATABASE " + db + " SET TimeZone = 'America/New_York'");
  run_sql_file(src(), fixture_sql("rental_shop_schema.sql"));
  run_sql_file(src(), fixture_sql("rental_shop_data.sql"));
  exec(dst(), CHAOS);
  hostile::CompareOptions o;
  o.exclude_schemas.push_back("chaos");

  // Pre-data: one transaction, so nothing of it stays; the message names the
  // archive entry and the server's cause.
  fail_at("CREATE FUNCTION");
  RunResult r = copy();
  ASSERT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("chaos: CREATE FUNCTION refused by the test"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("FUNCTION public."), std::string::npos) << "the failing entry is not named: " << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                               "WHERE n.nspname IN ('public', 'ops') AND c.relkind IN ('r', 'p')"),
            "0");

  // Data: one table's rows refused; the others' ranges commit.
  fail_at("DATA");
  r = copy();
  ASSERT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("public.rental"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chaos: rows refused by the test"), std::string::npos) << r.err;

  // Post-data, twice: at the triggers, then at the policies.
  fail_at("CREATE TRIGGER");
  r = copy();
  ASSERT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("resuming job"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("chaos: CREATE TRIGGER refused by the test"), std::string::npos) << r.err;
  fail_at("CREATE POLICY");
  r = copy();
  ASSERT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("chaos: CREATE POLICY refused by the test"), std::string::npos) << r.err;

  fail_at("nothing");
  r = copy();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(dst(), "DROP EVENT TRIGGER chaos_refuse; DROP EVENT TRIGGER chaos_arm; DROP TRIGGER chaos_rows ON public.rental");
  o.indexes_and_constraints = true;
  EXPECT_EQ(hostile::report(hostile::compare_databases(src(), dst(), o)), "");
  EXPECT_EQ(hostile::report(hostile::compare_large_objects(src(), dst())), "");
  EXPECT_EQ(hostile::report(hostile::compare_schema_dumps(src(), dst(), {}, o), 200), "");
}

TEST_F(Rerun, AResumedJobTakesANewFormatRefusesANewStrategyAndRestartsItsOwnTables) {
  exec(src(), R"SQL(
    CREATE TABLE keyed (id int PRIMARY KEY, v text);
    CREATE TABLE keyless (a int, b text);
    INSERT INTO keyed SELECT g, repeat('k', 200) FROM generate_series(1, 30000) g;
    INSERT INTO keyless SELECT g, 'n' FROM generate_series(1, 500) g;
    ANALYZE;
  )SQL");
  // A job left running: its ranges are planned, none done (the target refuses
  // the rows until the switch is off).
  exec(dst(), CHAOS);
  exec(dst(), "CREATE FUNCTION chaos.keyed_refuse() RETURNS event_trigger LANGUAGE plpgsql AS $$ DECLARE o record; BEGIN "
              "FOR o IN SELECT * FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND "
              "object_identity = 'public.keyed' LOOP EXECUTE 'CREATE TRIGGER chaos_rows BEFORE INSERT ON public.keyed "
              "FOR EACH ROW EXECUTE FUNCTION chaos.row_refuse()'; EXECUTE 'ALTER TABLE public.keyed ENABLE ALWAYS "
              "TRIGGER chaos_rows'; END LOOP; END $$; CREATE EVENT TRIGGER chaos_keyed ON ddl_command_end EXECUTE "
              "FUNCTION chaos.keyed_refuse()");
  fail_at("DATA");
  RunResult r = copy({"--range-bytes", "1MB"});
  ASSERT_NE(r.exit_code, 0) << r.err;
  ASSERT_NE(r.err.find("chaos: rows refused by the test"), std::string::npos) << r.err;
  std::string pending = query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done' AND table_name = 'keyed'");
  ASSERT_GT(std::stoi(pending), 1) << "the job should have pending ranges of keyed";
  EXPECT_EQ(query_value(dst(), "SELECT DISTINCT format FROM pgcutover.ranges WHERE table_name = 'keyed'"), "binary");

  // A different strategy: refused, nothing changed.
  fail_at("nothing");
  r = copy({"--strategy", "merge"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--strategy merge differs from the strategy its pending ranges were planned with"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--restart"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE state <> 'done' AND table_name = 'keyed'"),
            pending);

  // A different format: the pending ranges take it, and the job finishes with it.
  r = copy({"--format", "text"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("pending range(s) go as text (--format)"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pgcutover.ranges WHERE table_name = 'keyed' AND format = 'text'"),
            pending);
  exec(dst(), "DROP EVENT TRIGGER chaos_refuse; DROP EVENT TRIGGER chaos_arm; DROP EVENT TRIGGER chaos_keyed; "
              "DROP TRIGGER chaos_rows ON public.keyed");
  hostile::CompareOptions o;
  o.exclude_schemas.push_back("chaos");
  EXPECT_EQ(hostile::report(hostile::compare_contents(src(), dst(), o)), "");

  // --restart: the tables the job created and filled, the key-less one too, are copied again from the start.
  exec(src(), "UPDATE keyless SET b = 'again'; DELETE FROM keyed WHERE id % 10 = 0");
  r = copy({"--restart"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("--restart: emptying 2 table(s)"), std::string::npos) << r.err;
  EXPECT_EQ(hostile::report(hostile::compare_contents(src(), dst(), o)), "");
}
