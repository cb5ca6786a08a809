// pgcutover traffic against real servers: a few seconds of writes on a schema
// with a serial key, an identity key and a composite key; the rows it reports
// changed arrive in the next sync and the target equals the source; a role
// that may only read makes it fail naming the table.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <map>

#include "compare.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;
using nlohmann::json;

namespace {

struct Traffic : ::testing::Test {
  std::string db = "traffic";
  std::string src() { return source_cluster().conninfo(db); }
  std::string dst() { return target_cluster().conninfo(db); }

  void SetUp() override {
    recreate_database(source_cluster(), db);
    recreate_database(target_cluster(), db);
    exec(src(), R"SQL(
      CREATE TABLE accounts (id bigserial PRIMARY KEY, name text NOT NULL, balance numeric,
                             updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                             created_at timestamptz NOT NULL DEFAULT now());
      CREATE INDEX ON accounts (updated_at);
      CREATE TABLE notes (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                          account_id bigint NOT NULL REFERENCES accounts, body text,
                          modified_at timestamp NOT NULL DEFAULT clock_timestamp()::timestamp);
      CREATE INDEX ON notes (modified_at);
      CREATE TABLE tags (k1 text, k2 int, label text, updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                         PRIMARY KEY (k1, k2));
      CREATE INDEX ON tags (updated_at);
      INSERT INTO accounts (name, balance) SELECT 'a' || g, g FROM generate_series(1, 2000) g;
      INSERT INTO notes (account_id, body) SELECT 1 + g % 2000, 'n' || g FROM generate_series(1, 800) g;
      INSERT INTO tags (k1, k2, label) SELECT 'k' || (g % 17), g, 'l' || g FROM generate_series(1, 400) g;
      ANALYZE;
    )SQL");
    RunResult r = run_pgcutover({"copy", "--source", src(), "--target", dst()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
};

}  // namespace

TEST_F(Traffic, ChangedRowsArriveInTheSyncAndTheTargetEqualsTheSource) {
  long long accounts_before = std::stoll(query_value(src(), "SELECT count(*) FROM accounts"));
  std::string t0 = query_value(src(), "SELECT clock_timestamp()");
  RunResult t = run_pgcutover({"traffic", "--source", src(), "--rate", "40", "--duration", "3s", "--mix", "70:20:10",
                               "--json"});
  ASSERT_EQ(t.exit_code, 0) << t.err << t.out;
  json tj = json::parse(t.out);
  EXPECT_EQ(tj["command"], "traffic");
  EXPECT_GE(tj["transactions"].get<long long>(), 60) << tj.dump(2);  // ~120 asked; a loaded machine falls behind
  std::map<std::string, json> traffic;
  for (auto &x : tj["tables"]) traffic[x["table"]] = x;
  ASSERT_EQ(traffic.size(), 3u) << tj.dump(2);
  // accounts holds most rows: most picks, inserts through its serial key.
  const json &acc = traffic["public.accounts"];
  EXPECT_GT(acc["updates"].get<long long>(), 0) << acc.dump();
  EXPECT_GT(acc["inserts"].get<long long>(), 0) << acc.dump();
  EXPECT_EQ(acc["change_column"], "updated_at");
  EXPECT_TRUE(traffic["public.notes"]["inserts_possible"].get<bool>()) << "an identity feeds notes.id";
  EXPECT_EQ(traffic["public.notes"]["change_column"], "modified_at");
  EXPECT_FALSE(traffic["public.tags"]["inserts_possible"].get<bool>()) << "no sequence feeds a composite key";
  EXPECT_EQ(traffic["public.tags"]["inserts"], 0);
  EXPECT_GT(acc["weight"].get<double>(), traffic["public.tags"]["weight"].get<double>());
  // What it reports is what the source holds.
  EXPECT_EQ(std::stoll(query_value(src(), "SELECT count(*) FROM accounts")),
            accounts_before + acc["inserts"].get<long long>() - acc["deletes"].get<long long>());
  long long recent = std::stoll(query_value(src(), "SELECT count(*) FROM accounts WHERE updated_at > '" + t0 + "'"));
  EXPECT_EQ(recent, acc["rows_changed"].get<long long>());
  // An insert is a new row as the application makes it: its creation stamp
  // is its own default (a sync by created_at sees it), not the copied row's.
  EXPECT_EQ(query_value(src(), "SELECT count(*) FROM accounts WHERE id > " + std::to_string(accounts_before) +
                                   " AND created_at <= '" + t0 + "'"),
            "0");

  RunResult s = run_pgcutover({"sync", "--source", src(), "--target", dst(), "--overlap", "1s", "--deletes", "detect",
                               "--json"});
  ASSERT_EQ(s.exit_code, 0) << s.err << s.out;
  json sj = json::parse(s.out);
  long long changed = 0;
  for (auto &st : sj["tables"]) {
    std::string name = st["table"];
    ASSERT_TRUE(traffic.count(name)) << name;
    const json &tt = traffic[name];
    changed += tt["rows_changed"].get<long long>();
    EXPECT_GE(st["rows_read"].get<long long>(), tt["rows_changed"].get<long long>()) << name << ": " << st.dump();
    EXPECT_GE(st["rows_written"].get<long long>(), tt["rows_changed"].get<long long>()) << name << ": " << st.dump();
  }
  EXPECT_GT(changed, 30) << tj.dump(2);
  EXPECT_GE(expect_same_content(src(), dst()), 3);
}

TEST_F(Traffic, ARoleThatCannotWriteFailsNamingTheTable) {
  exec(src(), R"SQL(
    DO $$ BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'traffic_reader') THEN CREATE ROLE traffic_reader LOGIN; END IF;
    END $$;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO traffic_reader;
  )SQL");
  std::string t0 = query_value(src(), "SELECT clock_timestamp()");
  RunResult t = run_pgcutover({"traffic", "--source", source_cluster().conninfo(db, "traffic_reader"), "--rate", "50", "--duration",
                               "2s", "--table", "public.accounts"});
  EXPECT_NE(t.exit_code, 0) << t.out;
  EXPECT_NE(t.err.find("cannot write to public.accounts"), std::string::npos) << t.err;
  EXPECT_NE(t.err.find("permission denied"), std::string::npos) << t.err;
  EXPECT_EQ(query_value(src(), "SELECT count(*) FROM accounts WHERE updated_at > '" + t0 + "'"), "0");
}
