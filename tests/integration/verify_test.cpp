// pgcutover verify against real servers: an exact copy verifies OK; every kind
// of damage is caught and named; --repair fixes exactly the differing keys;
// writes at the source after the snapshot do not count as differences.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "compare.hpp"
#include "hostile.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct Verify : ::testing::Test {
  std::string db = "verify";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE docs (id bigserial PRIMARY KEY, body jsonb, score float8, note text, n int);
      INSERT INTO docs (body, score, note, n)
        SELECT jsonb_build_object('id', g, 'text', repeat(md5(g::text), 40)), g / 7.0, 'note ' || g, g
        FROM generate_series(1, 8000) g;
      UPDATE docs SET note = NULL WHERE id % 100 = 0;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--jobs", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  RunResult verify(std::vector<std::string> extra) {
    std::vector<std::string> a = {"verify", "--source", src(), "--target", dst(), "--jobs", "2", "--json"};
    a.insert(a.end(), extra.begin(), extra.end());
    return run_pgcutover(a);
  }
  static json parse(const RunResult &r) { return json::parse(r.out); }
  // kind -> keys, from a full verify's JSON
  static std::map<std::string, std::set<std::string>> diffs(const json &j) {
    std::map<std::string, std::set<std::string>> out;
    for (auto &t : j["tables"])
      for (auto &m : t["mismatches"])
        for (auto &k : m["keys"]) out[k["kind"]].insert(k["key"][0].get<std::string>());
    return out;
  }
};

}  // namespace

TEST_F(Verify, ExactCopyVerifiesOkInEveryMode) {
  for (const char *mode : {"count", "hash", "full"})
    for (const char *hash : {"client", "server"}) {
      RunResult r = verify({"--mode", mode, "--hash", hash});
      EXPECT_EQ(r.exit_code, 0) << mode << "/" << hash << ": " << r.err << r.out;
      json j = parse(r);
      EXPECT_TRUE(j["ok"].get<bool>());
      ASSERT_EQ(j["tables"].size(), 1u);
      EXPECT_EQ(j["tables"][0]["status"], "OK");
      EXPECT_EQ(j["tables"][0]["source_rows"], 8000);
      EXPECT_GE(j["tables"][0]["ranges"].get<int>(), 4) << "verify uses the copy's ranges";
    }
}

TEST_F(Verify, EveryKindOfDamageIsCaughtNamedAndRepairedKeyByKey) {
  exec(dst(), R"SQL(
    -- one changed byte deep inside a large jsonb value
    UPDATE docs SET body = jsonb_set(body, '{text}', to_jsonb(overlay(body->>'text' placing 'X' from 900 for 1))) WHERE id = 11;
    -- a jsonb value cut to 512 bytes (what a lossy migration service does)
    UPDATE docs SET body = to_jsonb(left(body::text, 512)) WHERE id = 22;
    DELETE FROM docs WHERE id = 33;                                  -- a missing row
    INSERT INTO docs (id, body, score, note, n) VALUES (900001, '{}', 0, 'extra', 0);  -- an extra row
    UPDATE docs SET score = score + 1e-9 WHERE id = 44;              -- a changed float
    UPDATE docs SET note = '' WHERE id = 500;                        -- NULL turned into ''
    SELECT setval('docs_id_seq', 10);                                -- a sequence set back
  )SQL");
  // Rows the repair must not touch keep their xmin.
  std::string untouched = "SELECT md5(string_agg(id || ':' || xmin::text, ',' ORDER BY id)) FROM docs WHERE id NOT IN (11, 22, 33, 44, 500, 900001)";
  std::string before = query_value(dst(), untouched);

  for (const char *hash : {"client", "server"}) {
    RunResult r = verify({"--mode", "hash", "--hash", hash});
    EXPECT_EQ(r.exit_code, 3) << hash << ": " << r.err;
    EXPECT_EQ(parse(r)["tables"][0]["status"], "DIFF") << hash;
  }
  RunResult r = verify({"--mode", "full"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  json j = parse(r);
  auto d = diffs(j);
  EXPECT_EQ(d["different"], (std::set<std::string>{"11", "22", "44", "500"}));
  EXPECT_EQ(d["missing"], (std::set<std::string>{"33"}));
  EXPECT_EQ(d["extra"], (std::set<std::string>{"900001"}));
  // The differing columns are named.
  std::map<std::string, std::vector<std::string>> cols;
  for (auto &m : j["tables"][0]["mismatches"])
    for (auto &k : m["keys"])
      if (k.contains("columns")) cols[k["key"][0]] = k["columns"].get<std::vector<std::string>>();
  EXPECT_EQ(cols["11"], std::vector<std::string>{"body"});
  EXPECT_EQ(cols["22"], std::vector<std::string>{"body"});
  EXPECT_EQ(cols["44"], std::vector<std::string>{"score"});
  EXPECT_EQ(cols["500"], std::vector<std::string>{"note"});
  bool seq_caught = false;
  for (auto &s : j["sequences"]) seq_caught = seq_caught || (s["sequence"] == "public.docs_id_seq" && !s["ok"].get<bool>());
  EXPECT_TRUE(seq_caught) << j["sequences"].dump();

  // Repair: every range verifies again, only the differing keys were written.
  r = verify({"--mode", "hash", "--repair"});
  EXPECT_EQ(parse(r)["tables"][0]["status"], "REPAIRED") << r.out;
  exec(dst(), "SELECT setval('docs_id_seq', (SELECT last_value FROM docs_id_seq) + 0)");
  EXPECT_EQ(query_value(dst(), untouched), before) << "the repair rewrote rows that did not differ";
  EXPECT_EQ(only_digest(src(), "docs", "id"), only_digest(dst(), "docs", "id"));
  // The sequence is not the repair's business (it is `pgcutover sequences`'), so
  // verify still reports it; set it forward and everything verifies OK.
  exec(dst(), "SELECT setval('docs_id_seq', 8000)");
  r = verify({"--mode", "full"});
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

TEST_F(Verify, WritesAfterTheSnapshotAreNotDifferences) {
  // More ranges, one at a time, so the verify runs long enough to be raced.
  exec(src(), "INSERT INTO docs (body, score, note, n) SELECT jsonb_build_object('id', g, 'text', repeat(md5(g::text), 40)), "
              "g, 'more', g FROM generate_series(1, 16000) g; ANALYZE");
  RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst(), "--range-bytes", "1MB", "--restart"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  PgcutoverProcess p({"verify", "--source", src(), "--target", dst(), "--jobs", "1", "--json"});
  // The line comes after both snapshots were exported: every write from here
  // on is after the snapshot's point.
  ASSERT_TRUE(p.wait_for_output("verifying as of", 30)) << p.err_so_far();
  exec(src(), "UPDATE docs SET note = 'after the snapshot' WHERE id % 3 = 0;"
              "DELETE FROM docs WHERE id % 7 = 0;"
              "INSERT INTO docs (id, body, score, note, n) SELECT 1000000 + g, '{}', 0, 'new', g FROM generate_series(1, 500) g");
  bool raced = p.running();
  r = p.wait(120);
  EXPECT_TRUE(raced) << "the verify ended before the writes committed; the test proved nothing";
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  json j = json::parse(r.out);
  EXPECT_EQ(j["tables"][0]["status"], "OK");
  EXPECT_GE(j["tables"][0]["ranges"].get<int>(), 10);
  // (The inserts carry explicit ids: sequences are not transactional, and a
  // sequence moved by writes after the snapshot is a real difference.)
  // And the writes are real: a new verify sees them.
  r = verify({"--mode", "count"});
  EXPECT_EQ(r.exit_code, 3);
}

// A table rewritten on the source after verify's snapshot (TRUNCATE, SET
// UNLOGGED, a column's type: not MVCC-safe) reads empty in that snapshot.
// Verify must not take that for the table: it would report every row extra,
// and --repair would delete them all on the target. The rewriting session
// holds the table's lock while verify waits on it, past its snapshot.
TEST_F(Verify, ATableRewrittenOnTheSourceDuringVerifyIsNeitherComparedNorRepaired) {
  for (const std::string &c : {src(), dst()})
    exec(c, "CREATE TABLE rewritten (id int PRIMARY KEY, v text); "
            "INSERT INTO rewritten SELECT g, 'v' || g FROM generate_series(1, 1000) g; ANALYZE");
  hostile::Session holder(src());
  holder.exec("BEGIN; LOCK TABLE public.rewritten IN ACCESS EXCLUSIVE MODE");
  PgcutoverProcess p({"verify", "--source", src(), "--target", dst(), "--jobs", "1", "--repair", "--json"});
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting && p.running(); ++i) {
    waiting = query_value(src(), "SELECT count(*) FROM pg_locks WHERE relation = 'rewritten'::regclass AND NOT granted") != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(waiting) << "verify never waited on rewritten: " << p.err_so_far();
  holder.exec("ALTER TABLE public.rewritten SET UNLOGGED; COMMIT");
  RunResult r = p.wait(120);
  EXPECT_EQ(r.exit_code, 1) << r.err << r.out;
  EXPECT_NE(r.err.find("rewritten was truncated, rewritten"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst(), "SELECT count(*) FROM rewritten"), "1000") << "rows deleted by the repair: " << r.err;
  RunResult again = verify({"--mode", "full"});
  EXPECT_EQ(again.exit_code, 0) << again.err << again.out;
  EXPECT_EQ(expect_same_content(src(), dst()), 2);
}
