// Text keys under different collations on the two servers (C on the source,
// ICU en-US on the target, as when moving to a new server): ranges are cut on
// one server and evaluated on both, so verify, delete detection and repair
// are exact only when both order the keys the same way.
#include <gtest/gtest.h>
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
