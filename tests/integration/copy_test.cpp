// pgcutover copy against real servers: exactness, idempotence, range balance,
// formats, partitions and inheritance, spill files, and the refusals.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

std::string src_db(const std::string &db) { return source_cluster().conninfo(db); }
std::string dst_db(const std::string &db) { return target_cluster().conninfo(db); }

// Fresh databases of the same name on both sides; the source gets the fixture files.
void fresh_pair(const std::string &db, const std::vector<std::string> &files) {
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  for (const std::string &f : files) run_sql_file(src_db(db), fixture_sql(f));
  exec(src_db(db), "ANALYZE");
}

json parse_json(const RunResult &r) {
  try {
    return json::parse(r.out);
  } catch (const std::exception &e) {
    ADD_FAILURE() << "stdout is not JSON: " << e.what() << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return json::object();
  }
}

std::vector<std::string> copy_args(const std::string &db, std::vector<std::string> extra = {}) {
  std::vector<std::string> a = {"copy", "--source", src_db(db), "--target", dst_db(db)};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

// Every common type, odd identifiers, composite / uuid / text keys, skewed
// keys: copied with several ranges and jobs into an empty database, then
// compared row by row. The databases' own defaults for output styles differ on
// purpose (and from the tool's), so only pinned session settings give exact values.
TEST(Copy, ExactForEveryTypeAndOddIdentifiers) {
  const std::string db = "exact";
  fresh_pair(db, {"all_types.sql", "odd_identifiers.sql", "skewed_keys.sql"});
  exec(src_db(db), "ALTER DATABASE exact SET DateStyle = 'SQL, DMY'; ALTER DATABASE exact SET extra_float_digits = -3;"
                   "ALTER DATABASE exact SET bytea_output = 'escape'; ALTER DATABASE exact SET IntervalStyle = 'sql_standard';"
                   "ALTER DATABASE exact SET TimeZone = 'Pacific/Chatham'; ALTER DATABASE exact SET client_encoding = 'LATIN1';"
                   "ALTER DATABASE exact SET xmloption = document; ALTER DATABASE exact SET lc_monetary = 'C'");
  exec(dst_db(db), "ALTER DATABASE exact SET DateStyle = 'German, MDY'; ALTER DATABASE exact SET extra_float_digits = 0;"
                   "ALTER DATABASE exact SET IntervalStyle = 'iso_8601'; ALTER DATABASE exact SET TimeZone = 'America/St_Johns';"
                   "ALTER DATABASE exact SET xmloption = document; ALTER DATABASE exact SET search_path = 'nowhere'");

  RunResult r = run_pgcutover(copy_args(db, {"--jobs", "3", "--range-bytes", "1MB", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r);

  // Several ranges really ran for the large tables.
  std::map<std::string, int> ranges;
  for (auto &t : j["tables"]) ranges[t["table"]] = t["ranges"];
  EXPECT_GE(ranges["public.skewed"], 3);
  EXPECT_GE(ranges["public.all_types"], 2);

  EXPECT_GE(expect_same_content(src_db(db), dst_db(db)), 8);
  // Large jsonb values arrived whole (the 512-byte truncation trap).
  EXPECT_EQ(query_value(src_db(db), "SELECT sum(octet_length(c_jsonb::text)) FROM public.all_types"),
            query_value(dst_db(db), "SELECT sum(octet_length(c_jsonb::text)) FROM public.all_types"));
  // Indexes and constraints were built after the data (post-data).
  std::string count_idx = "SELECT count(*) FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'pgcutover')";
  EXPECT_EQ(query_value(src_db(db), count_idx), query_value(dst_db(db), count_idx));
  std::string count_con = "SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'pgcutover'";
  EXPECT_EQ(query_value(src_db(db), count_con), query_value(dst_db(db), count_con));
  // The consistent point is recorded.
  EXPECT_FALSE(j["snapshot"]["id"].get<std::string>().empty());
  EXPECT_FALSE(j["snapshot"]["taken_at"].get<std::string>().empty());
}

// Tables whose binary form embeds type OIDs (arrays of enums, composites) go
// as text, and say why; the exactness test above proves the values.
TEST(Copy, PlanChoosesTextForTypesWithEmbeddedOids) {
  const std::string db = "oids";
  fresh_pair(db, {"all_types.sql", "skewed_keys.sql"});
  RunResult r = run_pgcutover({"plan", "--source", src_db(db), "--target", dst_db(db), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r);
  bool saw_all_types = false;
  for (auto &t : j["tables"]) {
    if (t["table"] == "public.all_types") {
      saw_all_types = true;
      EXPECT_EQ(t["format"], "text");
      EXPECT_NE(t["format_reason"].get<std::string>().find("type OIDs"), std::string::npos);
    }
    if (t["table"] == "public.skewed") EXPECT_EQ(t["format"], "binary");
  }
  EXPECT_TRUE(saw_all_types);
  // Forcing binary is refused with the column named, not silently wrong.
  r = run_pgcutover({"copy", "--source", src_db(db), "--target", dst_db(db), "--format", "binary", "--table", "public.all_types"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("public.all_types"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("type OIDs"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM pg_class WHERE relname = 'all_types'"), "0");
}

// The same merge copy twice leaves the same target, equal to the source; the
// merge also repairs rows that differ on the target.
TEST(Copy, MergeTwiceIsIdempotent) {
  const std::string db = "idem";
  fresh_pair(db, {"skewed_keys.sql", "odd_identifiers.sql"});
  RunResult r = run_pgcutover(copy_args(db, {"--range-bytes", "1MB"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(dst_db(db), "UPDATE public.skewed SET note = 'changed on target' WHERE id % 7 = 0");
  // The job is finished: only --restart copies again (a plain rerun does nothing).
  for (int run = 0; run < 2; ++run) {
    r = run_pgcutover(copy_args(db, {"--range-bytes", "1MB", "--strategy", "merge", "--jobs", "2", "--json", "--restart"}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json j = parse_json(r);
    for (auto &t : j["tables"]) EXPECT_EQ(t["strategy"], "merge");
    EXPECT_GE(expect_same_content(src_db(db), dst_db(db)), 7) << "after merge run " << run;
  }
}

// Ranges follow the real key distribution: with huge gaps, negative keys and
// 20 KB TOASTed rows in places, no range is more than about twice the mean.
TEST(Copy, RangesBalancedOnSkewedKeys) {
  const std::string db = "balance";
  fresh_pair(db, {"skewed_keys.sql"});
  RunResult r = run_pgcutover(copy_args(db, {"--table", "public.skewed", "--range-bytes", "2MB", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r);
  std::vector<long long> bytes;
  long long total = 0;
  for (auto &rg : j["ranges"]) {
    bytes.push_back(rg["bytes"].get<long long>());
    total += bytes.back();
  }
  ASSERT_GE(bytes.size(), 4u);
  double mean = static_cast<double>(total) / static_cast<double>(bytes.size());
  for (long long b : bytes) EXPECT_LE(static_cast<double>(b), 2.0 * mean) << "a range holds " << b << " bytes, mean " << mean;
  EXPECT_EQ(only_digest(src_db(db), "public.skewed", "id"), only_digest(dst_db(db), "public.skewed", "id"));
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM pg_class WHERE relname = 'skewed_text'"), "0");
}

// Inheritance parents are read with ONLY and each child copied as itself;
// partitioned tables go through their partitions, never also their parent.
TEST(Copy, InheritanceAndPartitionsCopiedOnce) {
  const std::string db = "inherit";
  fresh_pair(db, {});
  exec(src_db(db), R"SQL(
    CREATE TABLE parent (id int PRIMARY KEY, v text);
    CREATE TABLE child (extra int) INHERITS (parent);
    ALTER TABLE child ADD PRIMARY KEY (id);
    INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 500) g;
    INSERT INTO child SELECT g, 'c' || g, g FROM generate_series(1000, 1300) g;
    CREATE TABLE measure (id int, at date, v numeric, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
    CREATE TABLE measure_2025 PARTITION OF measure FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
    CREATE TABLE measure_2026 PARTITION OF measure FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO measure SELECT g, date '2025-06-01' + (g % 400), g / 7.0 FROM generate_series(1, 3000) g;
    ANALYZE;
  )SQL");
  RunResult r = run_pgcutover(copy_args(db, {"--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM ONLY parent"), "500");
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM parent"), "801");
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM measure"), "3000");
  EXPECT_GE(expect_same_content(src_db(db), dst_db(db)), 4);
  json j = parse_json(r);
  for (auto &t : j["tables"]) EXPECT_NE(t["table"], "public.measure") << "the partitioned parent was copied too";

  // Naming the partitioned parent copies its partitions.
  recreate_database(target_cluster(), db);
  r = run_pgcutover(copy_args(db, {"--table", "public.measure", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = parse_json(r);
  std::vector<std::string> names;
  for (auto &t : j["tables"]) names.push_back(t["table"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"public.measure_2025", "public.measure_2026"}));
}

// Every sequence feeding a copied table stands where the source's does
// (serial, bigserial, identity), so new rows on the target never collide.
TEST(Copy, SequencesStandWhereTheSourceStands) {
  const std::string db = "seqs";
  fresh_pair(db, {});
  exec(src_db(db), R"SQL(
    CREATE TABLE s_int (id serial PRIMARY KEY, v int);
    CREATE TABLE s_big (id bigserial PRIMARY KEY, v int);
    CREATE TABLE s_ident (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v int);
    INSERT INTO s_int (v) SELECT g FROM generate_series(1, 100) g;
    INSERT INTO s_big (v) SELECT g FROM generate_series(1, 50) g;
    SELECT setval('s_big_id_seq', 5000000000);
    INSERT INTO s_big (v) VALUES (1);
    INSERT INTO s_ident (v) SELECT g FROM generate_series(1, 70) g;
  )SQL");
  RunResult r = run_pgcutover(copy_args(db));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char *seq : {"s_int_id_seq", "s_big_id_seq", "s_ident_id_seq"}) {
    std::string q = std::string("SELECT last_value || '/' || is_called FROM ") + seq;
    EXPECT_EQ(query_value(src_db(db), q), query_value(dst_db(db), q)) << seq;
  }
  exec(dst_db(db), "INSERT INTO s_int (v) VALUES (0); INSERT INTO s_big (v) VALUES (0); INSERT INTO s_ident (v) VALUES (0)");
  EXPECT_EQ(query_value(dst_db(db), "SELECT max(id) FROM s_big"), "5000000002");
}

// Spill files: one read feeds two targets; a damaged file is refused and
// nothing of it is committed.
TEST(Copy, SpillFilesLoadIntoAnotherTargetAndDamagedOnesAreRefused) {
  const std::string db = "spill";
  fresh_pair(db, {"skewed_keys.sql", "all_types.sql"});
  std::string dir = test_temp_path("pgcutover-spill-test");
  std::filesystem::remove_all(dir);
  RunResult r = run_pgcutover(copy_args(db, {"--range-bytes", "1MB", "--spill-dir", dir, "--keep-spill", "--spill-level", "3"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(expect_same_content(src_db(db), dst_db(db)), 3);

  recreate_database(target_cluster(), "spill_b");
  r = run_pgcutover({"load", "--from-spill", dir, "--target", dst_db("spill_b"), "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GE(expect_same_content(src_db(db), dst_db("spill_b")), 3);

  // Flip one byte in the middle of one range file of public.skewed (the manifest says which).
  std::string victim;
  json manifest = json::parse(std::ifstream(std::filesystem::path(dir) / "manifest.json"));
  for (auto &t : manifest["tables"])
    if (t["table"] == "skewed")
      for (auto &rg : t["ranges"]) {
        std::string f = std::filesystem::path(dir) / rg["file"].get<std::string>();
        if (std::filesystem::file_size(f) > 10000) victim = f;
      }
  ASSERT_FALSE(victim.empty());
  {
    std::fstream f(victim, std::ios::in | std::ios::out | std::ios::binary);
    auto size = std::filesystem::file_size(victim);
    f.seekg(static_cast<std::streamoff>(size / 2));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.put(static_cast<char>(c ^ 0x5a));
  }
  recreate_database(target_cluster(), "spill_c");
  r = run_pgcutover({"load", "--from-spill", dir, "--target", dst_db("spill_c"), "--jobs", "1"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(std::filesystem::path(victim).filename().string()), std::string::npos) << r.err;
  // The damaged range committed nothing: its table holds whole ranges only,
  // so it has fewer rows than the source.
  long long loaded = std::stoll(query_value(dst_db("spill_c"), "SELECT count(*) FROM public.skewed"));
  long long source = std::stoll(query_value(src_db(db), "SELECT count(*) FROM public.skewed"));
  EXPECT_LT(loaded, source);
  std::filesystem::remove_all(dir);
}

// Refusals up front, each naming the table, with nothing written.
TEST(Copy, TypeMismatchMissingColumnAndMissingTableAreRefused) {
  const std::string db = "refuse";
  fresh_pair(db, {});
  exec(src_db(db), "CREATE TABLE docs (id int PRIMARY KEY, body jsonb, n int); INSERT INTO docs VALUES (1, '{\"a\": 1}', 1);"
                   "CREATE TABLE nokey (v int); INSERT INTO nokey VALUES (1);");
  exec(dst_db(db), "CREATE TABLE docs (id int PRIMARY KEY, body text, n int); CREATE TABLE nokey (v int); INSERT INTO nokey VALUES (7);");
  RunResult r = run_pgcutover(copy_args(db));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("public.docs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\"body\" is jsonb on the source but text on the target"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("public.nokey"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no primary key"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM docs"), "0");

  exec(dst_db(db), "ALTER TABLE docs DROP COLUMN n");
  r = run_pgcutover(copy_args(db, {"--table", "public.docs"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("column \"n\" is missing on the target"), std::string::npos) << r.err;

  r = run_pgcutover(copy_args(db, {"--table", "public.nope", "--table", "public.docs"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no such table on the source: public.nope"), std::string::npos) << r.err;
}

// Connection failures: one clear message, non-zero exit, no password anywhere.
TEST(Copy, ConnectionFailuresAreClearAndNeverShowThePassword) {
  const std::string db = "conn";
  fresh_pair(db, {});
  exec(src_db(db), "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)");
  std::string wrong = "host=127.0.0.1 port=" + std::to_string(source_cluster().port) + " dbname=conn user=" + SECRET_USER +
                      " password=Wr0ng-Secret-xyz";
  RunResult r = run_pgcutover({"copy", "--source", wrong, "--target", dst_db(db)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect to the source"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("password"), std::string::npos) << r.err;  // says what to check
  EXPECT_EQ((r.out + r.err).find("Wr0ng-Secret-xyz"), std::string::npos) << r.err;

  // The right password works, and is not shown either.
  std::string right = "postgresql://" + std::string(SECRET_USER) + ":" + SECRET_PASSWORD + "@127.0.0.1:" +
                      std::to_string(source_cluster().port) + "/conn";
  r = run_pgcutover({"copy", "--source", right, "--target", dst_db(db), "-v"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ((r.out + r.err).find(SECRET_PASSWORD), std::string::npos);

  // Nothing listens on this port.
  r = run_pgcutover({"copy", "--source", "host=127.0.0.1 port=1 dbname=x connect_timeout=3", "--target", dst_db(db)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect to the source 127.0.0.1:1/x"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint:"), std::string::npos) << r.err;

  // Missing database.
  r = run_pgcutover({"copy", "--source", src_db("no_such_db"), "--target", dst_db(db)});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no_such_db"), std::string::npos) << r.err;
}

// A read-only target is refused before anything is read.
TEST(Copy, ReadOnlyTargetIsRefused) {
  const std::string db = "readonly";
  fresh_pair(db, {});
  exec(src_db(db), "CREATE TABLE t (id int PRIMARY KEY)");
  exec(dst_db(db), "ALTER DATABASE readonly SET default_transaction_read_only = on");
  RunResult r = run_pgcutover(copy_args(db));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
}

// Composite (text, int) and uuid keys split into several ranges by row
// comparison and uuid order, and arrive exactly.
TEST(Copy, CompositeAndUuidKeysSplitIntoRanges) {
  const std::string db = "keys";
  fresh_pair(db, {});
  exec(src_db(db), R"SQL(
    CREATE TABLE comp ("Region" text, n int, payload text, PRIMARY KEY ("Region", n));
    INSERT INTO comp SELECT 'r' || (g % 7) || CASE WHEN g % 3 = 0 THEN ' é' ELSE '' END, g, repeat(md5(g::text), 20)
      FROM generate_series(1, 6000) g;
    CREATE TABLE uu (id uuid PRIMARY KEY, payload text);
    INSERT INTO uu SELECT md5(g::text)::uuid, repeat(md5(g::text), 20) FROM generate_series(1, 6000) g;
    ANALYZE;
  )SQL");
  RunResult r = run_pgcutover(copy_args(db, {"--range-bytes", "1MB", "--jobs", "3", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = parse_json(r);
  for (auto &t : j["tables"]) EXPECT_GE(t["ranges"].get<int>(), 3) << t["table"];
  EXPECT_EQ(only_digest(src_db(db), "comp", "\"Region\", n"), only_digest(dst_db(db), "comp", "\"Region\", n"));
  EXPECT_EQ(only_digest(src_db(db), "uu", "id"), only_digest(dst_db(db), "uu", "id"));
}

// TRUNCATE and the rewriting forms of ALTER TABLE are not MVCC-safe: a table
// rewritten on the source after the copy took its snapshot looks empty to
// every later read in that snapshot. A range read so must not be marked done
// with no rows (the rerun would skip it and the rows would never come): the
// copy fails naming the table, nothing of the range is committed, and the
// rerun copies it. The source's table is rewritten (SET UNLOGGED: its rows
// stay the same) while the copy, past its snapshot, waits:
//   - direct, into a table the copy creates: on a lock on the target's other
//     table (the largest range goes first, and waits);
//   - through spill files (read ahead of the writers), into tables made
//     beforehand: on the rewriting session's own lock on the source's table.
TEST(Copy, ATableRewrittenOnTheSourceDuringTheCopyIsCopiedAgainNotTakenForEmpty) {
  for (bool spill : {false, true}) {
    SCOPED_TRACE(spill ? "with --spill-dir" : "direct");
    const std::string db = "copy_rewritten";
    fresh_pair(db, {});
    const std::string blocker_def = "CREATE TABLE a_blocker (id int PRIMARY KEY, v text)";
    const std::string rewritten_def = "CREATE TABLE rewritten (id int PRIMARY KEY, v text)";
    exec(src_db(db), blocker_def + "; INSERT INTO a_blocker SELECT g, repeat('x', 400) FROM generate_series(1, 2000) g; " +
                         rewritten_def + "; INSERT INTO rewritten SELECT g, 'v' || g FROM generate_series(1, 1000) g; ANALYZE");
    exec(dst_db(db), blocker_def);
    if (spill) exec(dst_db(db), rewritten_def);
    std::filesystem::path dir = std::filesystem::temp_directory_path() / "pgcutover_rewritten_spill";
    std::filesystem::remove_all(dir);
    std::vector<std::string> extra = {"--jobs", "1"};
    if (spill) extra.insert(extra.end(), {"--spill-dir", dir.string()});

    const std::string held = spill ? "rewritten" : "a_blocker";
    hostile::Session holder(spill ? src_db(db) : dst_db(db));
    holder.exec("BEGIN; LOCK TABLE public." + held + (spill ? " IN ACCESS EXCLUSIVE MODE" : " IN EXCLUSIVE MODE"));
    PgcutoverProcess p(copy_args(db, extra));
    bool waiting = false;
    for (int i = 0; i < 600 && !waiting && p.running(); ++i) {
      waiting = query_value(spill ? src_db(db) : dst_db(db),
                            "SELECT count(*) FROM pg_locks WHERE relation = '" + held + "'::regclass AND NOT granted") != "0";
      if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_TRUE(waiting) << "the copy never waited on " << held << ": " << p.err_so_far();
    if (spill) {
      holder.exec("ALTER TABLE public.rewritten SET UNLOGGED; COMMIT");  // after the copy's snapshot
    } else {
      exec(src_db(db), "ALTER TABLE rewritten SET UNLOGGED");
      holder.exec("COMMIT");
    }
    RunResult r = p.wait(120);
    EXPECT_NE(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("rewritten was truncated, rewritten"), std::string::npos) << r.err;
    // Either way nothing of it counts as copied: empty, or not created at all.
    if (query_value(dst_db(db), "SELECT to_regclass('public.rewritten') IS NOT NULL") == "t")
      EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM rewritten"), "0") << "a range read empty was committed";

    RunResult again = run_pgcutover(copy_args(db, extra));
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(query_value(dst_db(db), "SELECT count(*) FROM rewritten"), "1000") << again.err;
    EXPECT_EQ(expect_same_content(src_db(db), dst_db(db)), 2);
    std::filesystem::remove_all(dir);
  }
}
