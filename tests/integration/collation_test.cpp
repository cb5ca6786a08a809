// Text keys under different collations on the two servers (C on the source,
// ICU en-US on the target, as when moving to a new server): ranges are cut on
// one server and evaluated on both, so verify, delete detection and repair
// are exact only when both order the keys the same way.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include <thread>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct Collation : ::testing::Test {
  std::string db = "collations";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    const std::string drop = "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)";
    exec(source_cluster().conninfo(), drop);
    exec(source_cluster().conninfo(), "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
    exec(target_cluster().conninfo(), drop);
    exec(target_cluster().conninfo(), "CREATE DATABASE " + db +
                                          " TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
                                          "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
    ASSERT_EQ(query_value(dst(), "SELECT datlocprovider FROM pg_database WHERE datname = current_database()"), "i");
    // Keys whose C order and en-US order disagree (case, accents, punctuation,
    // spaces); a composite key with a varchar part.
    exec(src(), R"SQL(
      CREATE TABLE words (k text PRIMARY KEY, v text NOT NULL);
      INSERT INTO words
        SELECT p || lpad(g::text, 4, '0') || s, repeat('v', 120)
          FROM generate_series(1, 500) g,
               unnest(ARRAY['a', 'A', 'b', 'B', 'é', 'E', '_', ' ', 'Z', 'z', 'ä', 'Å']) p,
               unnest(ARRAY['', '-x', ' y', 'Y', 'z']) s;
      CREATE TABLE pairs (grp varchar(10), n int, v text, PRIMARY KEY (grp, n));
      INSERT INTO pairs SELECT p, g, repeat('p', 400)
        FROM unnest(ARRAY['a', 'B', 'b', 'Ä', 'a-b', 'ab', 'a b', 'A']) p, generate_series(1, 400) g;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--jobs", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult run(const std::string &command, std::vector<std::string> extra) {
    std::vector<std::string> a = {command, "--source", src(), "--target", dst(), "--jobs", "2"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  // Content of both tables, in an order both servers agree on.
  void expect_same(const std::string &when) {
    EXPECT_EQ(only_digest(src(), "words", "k COLLATE \"C\""), only_digest(dst(), "words", "k COLLATE \"C\"")) << when;
    EXPECT_EQ(only_digest(src(), "pairs", "grp COLLATE \"C\", n"), only_digest(dst(), "pairs", "grp COLLATE \"C\", n"))
        << when;
  }
};

}  // namespace

TEST_F(Collation, VerifyDeleteDetectionAndRepairAgreeAcrossCollations) {
  expect_same("after copy");
  for (const char *mode : {"count", "hash", "full"})
    for (const char *hash : {"client", "server"}) {
      RunResult r = run("verify", {"--mode", mode, "--hash", hash, "--json"});
      EXPECT_EQ(r.exit_code, 0) << mode << "/" << hash << ": " << r.err << r.out;
    }

  // Rows deleted on the source: delete detection removes exactly those.
  const std::string words_deleted =
      "(right(k, 1) = 'Y' AND substr(k, 2, 4)::int % 7 = 0) OR (left(k, 1) IN ('é', '_', ' ', 'Å') AND "
      "substr(k, 2, 4)::int % 5 = 0)";
  std::string n_words = query_value(src(), "SELECT count(*) FROM words WHERE " + words_deleted);
  std::string n_pairs = query_value(src(), "SELECT count(*) FROM pairs WHERE n % 11 = 0 OR (grp = 'a-b' AND n > 350)");
  exec(src(), "DELETE FROM words WHERE " + words_deleted +
                  "; DELETE FROM pairs WHERE n % 11 = 0 OR (grp = 'a-b' AND n > 350)");
  std::string words_left = query_value(src(), "SELECT count(*) FROM words");
  std::string pairs_left = query_value(src(), "SELECT count(*) FROM pairs");
  RunResult s = run("sync", {"--allow-scan", "--overlap", "100ms", "--deletes", "detect", "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err << s.out;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM words"), words_left) << "expected " << n_words << " deletes";
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM pairs"), pairs_left) << "expected " << n_pairs << " deletes";
  expect_same("after sync --deletes detect");

  // A damaged target: changed, missing and extra rows across the key space.
  exec(dst(), R"SQL(
    UPDATE words SET v = 'changed' WHERE substr(k, 2, 4)::int % 37 = 0;
    DELETE FROM words WHERE substr(k, 2, 4)::int % 41 = 0;
    INSERT INTO words SELECT 'extra ' || g || p, 'x' FROM generate_series(1, 50) g, unnest(ARRAY['a', 'É', '_']) p;
    UPDATE pairs SET v = 'changed' WHERE n % 13 = 0;
    DELETE FROM pairs WHERE n % 17 = 0;
  )SQL");
  RunResult broken = run("verify", {"--mode", "full", "--json"});
  EXPECT_EQ(broken.exit_code, 3) << broken.err << broken.out;
  RunResult repair = run("verify", {"--mode", "full", "--repair", "--json"});
  EXPECT_EQ(repair.err.find("ON CONFLICT"), std::string::npos) << repair.err;
  json j = json::parse(repair.out);
  for (auto &t : j["tables"]) EXPECT_EQ(t["status"], "REPAIRED") << t.dump();
  expect_same("after verify --repair");
  for (const char *hash : {"client", "server"}) {
    RunResult r = run("verify", {"--mode", "full", "--hash", hash});
    EXPECT_EQ(r.exit_code, 0) << hash << ": " << r.err << r.out;
  }
}

// Both servers order the key alike (the same ICU collation and library
// version, the usual case of a database moved to a new server of the same
// build): ranges compare in the key's own order, so the key index serves
// them, and no range reads the whole table (issue 24: under COLLATE "C" each
// range was a scan of the whole table, 33 scans for a table of 33 ranges).
// plan says which rule each table gets. Measured by the servers' own
// statistics: the rows sequential scans read on each side, against the
// table's rows.
TEST(SameCollation, RangesUseTheKeyIndexAndPlanSaysWhy) {
  const std::string db = "same_collation";
  const std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  for (Cluster *c : {&source_cluster(), &target_cluster()}) {
    exec(c->conninfo(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
    exec(c->conninfo(), "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
                                                  "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  }
  ASSERT_NE(query_value(src, "SELECT datcollversion FROM pg_database WHERE datname = current_database()"), "");
  exec(src, R"SQL(
    CREATE TABLE words (k text PRIMARY KEY, v text NOT NULL);
    INSERT INTO words SELECT p || lpad(g::text, 5, '0'), repeat('v', 400)
      FROM generate_series(1, 4000) g, unnest(ARRAY['a', 'A', 'é', '_', 'Z']) p;
    CREATE TABLE codes (k text COLLATE "C" PRIMARY KEY, v int);
    INSERT INTO codes SELECT 'c' || g, g FROM generate_series(1, 100) g;
    ANALYZE;
  )SQL");
  const long long rows = 20000;

  RunResult r = run_pgcutover({"plan", "--source", src, "--target", dst, "--range-bytes", "1MB", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json plan = json::parse(r.out);
  int ranges = 0;
  for (const json &t : plan["tables"]) {
    if (t["table"] == "public.words") {
      EXPECT_NE(t["key_order"].get<std::string>().find("same collation on both servers (i/en-US/"), std::string::npos)
          << t.dump();
      ranges = t["ranges"].get<int>();
    }
    if (t["table"] == "public.codes")
      EXPECT_NE(t["key_order"].get<std::string>().find("bytewise (C) on both servers"), std::string::npos) << t.dump();
  }
  ASSERT_GE(ranges, 4) << "several ranges, or the scans cannot show: " << r.out;

  // Rows read by sequential scans of public.words on one side since the reset.
  // (The run's sessions report their statistics when they end, just after it.)
  auto seq_rows = [&](const std::string &conninfo) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return std::stoll(query_value(conninfo, "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables "
                                            "WHERE relid = 'public.words'::regclass"));
  };
  exec(src, "SELECT pg_stat_reset()");
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--range-bytes", "1MB", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(seq_rows(src), 2 * rows) << ranges << " ranges read more than two scans' worth of rows on the source";
  EXPECT_EQ(expect_same_content(src, dst), 2);

  exec(src, "SELECT pg_stat_reset()");
  exec(dst, "SELECT pg_stat_reset()");
  r = run_pgcutover({"verify", "--source", src, "--target", dst, "--jobs", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_LE(seq_rows(src), 2 * rows) << "verify, source";
  EXPECT_LE(seq_rows(dst), 2 * rows) << "verify, target";
}

// The servers order the key differently (ICU en-US on the source, C on the
// target: a move to a server with another default). Copy and sync cut and
// read their ranges in the source's own order, so its key index serves them
// and no range reads the whole source table (issue 24: under COLLATE "C" a
// table of N ranges was N full scans). Verify and delete detection evaluate
// ranges on both servers: they cut their own in C order, so they stay exact.
// Without that, verify by the copy's ranges would find rows in the wrong
// range on the target, and delete detection would delete the wrong rows.
TEST(DifferentCollation, CopyAndSyncReadRangesInTheSourcesOrderVerifyAndDeletesStayExact) {
  const std::string db = "other_collation";
  const std::string src = source_cluster().conninfo(db), dst = target_cluster().conninfo(db);
  for (Cluster *c : {&source_cluster(), &target_cluster()}) exec(c->conninfo(), "DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
  exec(source_cluster().conninfo(), "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu "
                                                            "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
  exec(target_cluster().conninfo(), "CREATE DATABASE " + db + " TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'");
  exec(src, R"SQL(
    CREATE TABLE words (k text PRIMARY KEY, v text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ON words (updated_at);
    INSERT INTO words SELECT p || lpad(g::text, 5, '0') || s, repeat('v', 400), now() - interval '3 days'
      FROM generate_series(1, 2000) g, unnest(ARRAY['a', 'A', 'é', '_', 'Z']) p, unnest(ARRAY['', ' y']) s;
    ANALYZE;
  )SQL");
  const long long rows = 20000;
  auto digest = [&](const std::string &conninfo) { return only_digest(conninfo, "words", "k COLLATE \"C\""); };
  auto seq_rows = [&](const std::string &conninfo) {
    std::this_thread::sleep_for(std::chrono::seconds(1));  // the run's sessions report their statistics as they end
    return std::stoll(query_value(conninfo, "SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables "
                                            "WHERE relid = 'public.words'::regclass"));
  };

  RunResult r = run_pgcutover({"plan", "--source", src, "--target", dst, "--range-bytes", "1MB", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int ranges = 0;
  const json plan = json::parse(r.out);
  for (const json &t : plan["tables"])
    if (t["table"] == "public.words") {
      EXPECT_NE(t["key_order"].get<std::string>().find("copy and sync cut and read ranges in the source's order"),
                std::string::npos) << t.dump();
      ranges = t["ranges"].get<int>();
    }
  ASSERT_GE(ranges, 4) << "several ranges, or the scans cannot show: " << r.out;

  exec(src, "SELECT pg_stat_reset()");
  r = run_pgcutover({"copy", "--source", src, "--target", dst, "--range-bytes", "1MB", "--jobs", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(seq_rows(src), 2 * rows) << ranges << " ranges read more than two scans' worth of rows on the source";
  EXPECT_EQ(digest(src), digest(dst)) << "after copy";
  EXPECT_EQ(query_value(dst, "SELECT count(*) FILTER (WHERE source_order) || '/' || count(*) FROM pgcutover.ranges "
                             "WHERE table_name = 'words'"),
            std::to_string(ranges) + "/" + std::to_string(ranges))
      << "the ledger records how the ranges were cut, for a resumed job";
  // Verify compares every row once: ranges cut in one order and evaluated in
  // another would leave rows in no range (and others in two) on both sides
  // alike, and still call the table equal.
  auto verify_covers_every_row = [&](const std::string &when) {
    RunResult v = run_pgcutover({"verify", "--source", src, "--target", dst, "--jobs", "2", "--mode", "full", "--json"});
    EXPECT_EQ(v.exit_code, 0) << "verify " << when << ": " << v.err << v.out;
    const json j = json::parse(v.out);
    const std::string n = query_value(src, "SELECT count(*) FROM words");
    for (const json &t : j["tables"])
      if (t["table"] == "public.words") {
        EXPECT_EQ(std::to_string(t["source_rows"].get<long long>()), n) << when << ": " << t.dump();
        EXPECT_EQ(std::to_string(t["target_rows"].get<long long>()), n) << when << ": " << t.dump();
      }
  };
  verify_covers_every_row("after copy");

  // Verify reads each side once, whatever its ranges would be: by buckets of
  // the key, not by C-order ranges (each a full scan: 1MB ranges made 8 scans
  // of each side before). A damaged target costs one more read per side, to
  // find the differing keys; the repair makes it exact.
  auto reset_stats = [&] {
    exec(src, "SELECT pg_stat_reset()");
    exec(dst, "SELECT pg_stat_reset()");
  };
  reset_stats();
  RunResult v = run_pgcutover({"verify", "--source", src, "--target", dst, "--range-bytes", "1MB", "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.err << v.out;
  EXPECT_LE(seq_rows(src), rows) << "verify read the source more than once";
  EXPECT_LE(seq_rows(dst), rows) << "verify read the target more than once";
  exec(dst, "UPDATE words SET v = 'damaged' WHERE k IN ('a00007', 'é01234 y'); DELETE FROM words WHERE k = 'Z00100'; "
            "INSERT INTO words VALUES ('only on the target', 'x', now())");
  reset_stats();
  v = run_pgcutover({"verify", "--source", src, "--target", dst, "--range-bytes", "1MB", "--mode", "full", "--json"});
  EXPECT_EQ(v.exit_code, 3) << v.err << v.out;
  EXPECT_LE(seq_rows(src), 2 * rows) << "finding the differing keys read the source more than twice";
  EXPECT_LE(seq_rows(dst), 2 * rows) << "finding the differing keys read the target more than twice";
  std::map<std::string, std::string> found;
  const json damaged = json::parse(v.out);
  for (const json &t : damaged["tables"])
    for (const json &m : t["mismatches"])
      for (const json &k : m["keys"]) found[k["key"][0].get<std::string>()] = k["kind"].get<std::string>();
  EXPECT_EQ(found, (std::map<std::string, std::string>{{"a00007", "different"}, {"é01234 y", "different"},
                                                        {"Z00100", "missing"}, {"only on the target", "extra"}}))
      << v.out;
  v = run_pgcutover({"verify", "--source", src, "--target", dst, "--mode", "full", "--repair", "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.err << v.out;
  EXPECT_EQ(digest(src), digest(dst)) << "after verify --repair";

  // The same through COPY's text format (aclitem has no binary I/O), with
  // keys that COPY escapes there (a tab, a newline, a backslash): the keys
  // named and repaired are the values themselves.
  exec(src, R"SQL(
    CREATE TABLE texty (k text PRIMARY KEY, a aclitem NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO texty SELECT p || g, 'postgres=r/postgres', now() - interval '3 days'
      FROM generate_series(1, 300) g, unnest(ARRAY[E'tab\there ', E'new\nline ', E'back\\slash ', 'É']) p;
    ANALYZE texty;
  )SQL");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--overlap", "100ms"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  exec(dst, "UPDATE texty SET a = 'postgres=w/postgres' WHERE k = E'tab\\there 7'; DELETE FROM texty WHERE k = E'new\\nline 9'; "
            "DELETE FROM texty WHERE k = E'back\\\\slash 11'");
  v = run_pgcutover({"verify", "--source", src, "--target", dst, "--mode", "full", "--json"});
  EXPECT_EQ(v.exit_code, 3) << v.err << v.out;
  std::map<std::string, std::string> texty_found;
  const json texty_damaged = json::parse(v.out);
  for (const json &t : texty_damaged["tables"])
    for (const json &m : t["mismatches"])
      for (const json &k : m["keys"]) texty_found[k["key"][0].get<std::string>()] = k["kind"].get<std::string>();
  EXPECT_EQ(texty_found, (std::map<std::string, std::string>{
                             {"tab\there 7", "different"}, {"new\nline 9", "missing"}, {"back\\slash 11", "missing"}}))
      << v.out;
  v = run_pgcutover({"verify", "--source", src, "--target", dst, "--mode", "full", "--repair", "--json"});
  EXPECT_EQ(v.exit_code, 0) << v.err << v.out;
  EXPECT_EQ(only_digest(src, "texty", "k COLLATE \"C\""), only_digest(dst, "texty", "k COLLATE \"C\"")) << "after verify --repair";

  // Changes across the key space (half the rows, so the sync cuts ranges at
  // the changed rows' key quantiles) and deletes, then a sync that detects them.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  exec(src, "UPDATE words SET v = 'changed ' || k, updated_at = now() WHERE substr(k, 2, 5)::int % 2 = 0; "
            "DELETE FROM words WHERE substr(k, 2, 5)::int % 9 = 0");
  std::string left = query_value(src, "SELECT count(*) FROM words");
  r = run_pgcutover({"sync", "--source", src, "--target", dst, "--range-bytes", "1MB", "--jobs", "2", "--overlap", "100ms",
                     "--deletes", "detect", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  int sync_ranges = 0;
  const json synced = json::parse(r.out);
  for (const json &x : synced["ranges"])
    if (x["table"] == "public.words") ++sync_ranges;
  EXPECT_GE(sync_ranges, 2) << "the changed rows were to be split over the jobs: " << r.out;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM words"), left);
  EXPECT_EQ(digest(src), digest(dst)) << "after sync --deletes detect";
  verify_covers_every_row("after sync");
}
