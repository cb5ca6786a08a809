// The whole cutover maneuver across PostgreSQL majors: for each (source,
// target) pair, two clusters of those majors, a small fixture on the source,
// then copy, verify, sync while a writer keeps writing, the final sync,
// verify again, and an independent content compare.
//
// Run: ctest --test-dir build -L versions --output-on-failure
//   (the `versions_install` test installs the majors first, from npm:
//   scripts/lib/pg_versions.sh). Other pairs: PGCUTOVER_VERSION_PAIRS=10:17,11:16
//   build/versions_tests. Not part of the default `ctest` run (scripts/test.sh
//   leaves the label out) until the failures it lists are fixed.
//
// Each step that fails adds a gtest failure naming the pair, the step, the
// exit code and pgcutover's stderr, and the run goes on with the next step, so
// one run lists every failure of every pair; a summary table is printed last.
//
// Schema: pgcutover creates missing tables through pg_dump, and the only
// pg_dump here is Debian's 15, which cannot read a newer server. For a source
// newer than that pg_dump (18 -> 18, and the downgrade 17 -> 15) the copy
// must refuse (nonzero exit, a message naming pg_dump or the versions, no user
// table created on the target); the maneuver then goes on with the schema
// made by hand on the target and `copy --no-schema`.
//
// The independent compare: every user table of the source, on both sides, in
// one session per side (one snapshot, the fixture's deterministic settings),
// ordered by primary key, md5 over the md5 of each row's text. Floats are the
// one type whose text depends on the server's major: with extra_float_digits
// = 3, 12 and later print the shortest exact form ("0.1"), 10 and 11 print 17
// significant digits ("0.10000000000000001"). Lowering extra_float_digits to
// 0 makes both print 15 digits, but then distinct values can print the same.
// So float4 / float8 (and their arrays, and point) are compared through
// float4send / float8send: their exact bits, in hex, the same on every major.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hostile.hpp"
#include "pg_cluster.hpp"

using namespace pgcutover::testing;

namespace {

struct Pair {
  int source = 0;
  int target = 0;
};

std::vector<Pair> matrix() {
  std::vector<Pair> pairs;
  const char *env = std::getenv("PGCUTOVER_VERSION_PAIRS");
  std::string spec = env && *env ? env : "10:17,10:18,12:18,15:15,18:18,17:15";
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto colon = item.find(':');
    if (colon == std::string::npos) continue;
    pairs.push_back({std::atoi(item.substr(0, colon).c_str()), std::atoi(item.substr(colon + 1).c_str())});
  }
  return pairs;
}

// One line per failed step, printed at the end of the run.
std::vector<std::string> &summary() {
  static std::vector<std::string> lines;
  return lines;
}

std::string first_lines(const std::string &s, size_t max_lines = 6) {
  std::string out;
  size_t lines = 0, pos = 0;
  while (pos < s.size() && lines < max_lines) {
    size_t nl = s.find('\n', pos);
    if (nl == std::string::npos) nl = s.size();
    std::string line = s.substr(pos, nl - pos);
    if (!line.empty()) {
      out += (out.empty() ? "" : " | ") + line;
      ++lines;
    }
    pos = nl + 1;
  }
  return out;
}

// A fixture file, made loadable on the pair's source: before 11, ANALYZE
// takes one table, so a list becomes a plain ANALYZE.
std::string fixture_for_major(const std::string &file, int major) {
  if (major >= 11) return fixture_sql(file);
  std::ifstream in(fixture_sql(file));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = std::regex_replace(ss.str(), std::regex("ANALYZE [^;]*,[^;]*;"), "ANALYZE;");
  const std::string path = (std::filesystem::temp_directory_path() / ("pgcutover-v" + std::to_string(major) + "-" + file)).string();
  std::ofstream(path) << text;
  return path;
}

constexpr const char *FIXTURE_FILES[] = {"all_types.sql", "odd_identifiers.sql", "skewed_keys.sql"};

// A table with a change column, for sync; floats whose text differs before 12.
constexpr const char *EVENTS_SQL = R"SQL(
  CREATE TABLE public.vm_events (id bigserial PRIMARY KEY, v text NOT NULL, amount double precision,
                                 ratio real, updated_at timestamptz NOT NULL DEFAULT clock_timestamp());
  CREATE INDEX vm_events_updated_at ON public.vm_events (updated_at);
  INSERT INTO public.vm_events (v, amount, ratio) SELECT 'e' || g, g / 7.0, g / 3.0 FROM generate_series(1, 2000) g;
  ANALYZE public.vm_events;
)SQL";

// Values an older target cannot hold (only loaded for a downgrade from 17+ to
// an older major): an infinite interval (17+). The copy must refuse the column
// by name before any data moves; once the value is made finite, it goes.
constexpr const char *DOWNGRADE_SQL = R"SQL(
  CREATE TABLE public.vm_intervals (id integer PRIMARY KEY, d interval, ds interval[]);
  INSERT INTO public.vm_intervals SELECT g, g * interval '1 hour', ARRAY[g * interval '1 day'] FROM generate_series(1, 100) g;
)SQL";
constexpr const char *DOWNGRADE_VALUES_SQL =
    "UPDATE public.vm_intervals SET d = 'infinity' WHERE id = 3; "
    "UPDATE public.vm_intervals SET ds = ARRAY['-infinity'::interval] WHERE id = 4";
constexpr const char *DOWNGRADE_FIX_SQL =
    "UPDATE public.vm_intervals SET d = interval '1 year', ds = ARRAY[interval '1 year'] WHERE id IN (3, 4)";

// What changes on the source between the copy and the final sync.
constexpr const char *SOURCE_CHANGES_SQL = R"SQL(
  INSERT INTO public.vm_events (v, amount, ratio) SELECT 'new' || g, g * 0.1, g * 0.7 FROM generate_series(1, 200) g;
  -- wide new rows: a change set worth splitting, whose new keys the sync COPYs straight in
  INSERT INTO public.vm_events (v, amount, ratio)
    SELECT (SELECT string_agg(md5(g::text || '.' || i::text), '') FROM generate_series(1, 40) i), g, g
    FROM generate_series(1, 5000) g;
  UPDATE public.vm_events SET v = v || ' changed', amount = amount + 0.1, updated_at = clock_timestamp() WHERE id % 50 = 0;
  DELETE FROM public.vm_events WHERE id % 97 = 0;
  UPDATE public.all_types SET c_text = coalesce(c_text, '') || ' changed', c_double = c_double + 0.1 WHERE id % 100 = 0;
  DELETE FROM public.all_types WHERE id % 333 = 0 AND id > 0;
  INSERT INTO public.skewed_text SELECT 'zz-new-' || g, g FROM generate_series(1, 50) g ON CONFLICT DO NOTHING;
)SQL";

struct TableSpec {
  std::string quoted;    // "schema"."table"
  std::string row_expr;  // version-stable text of a row (alias r)
  std::string order_by;  // over alias r
};

// Every user table of the source (pgcutover's own schemas excepted), with a
// row expression whose text is the same on every major (floats as bits).
std::vector<TableSpec> user_tables(const std::string &conninfo) {
  auto rows = query_rows(conninfo, R"SQL(
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       (SELECT string_agg(
                 CASE t.typname
                   WHEN 'float4' THEN 'float4send(r.' || quote_ident(a.attname) || ')'
                   WHEN 'float8' THEN 'float8send(r.' || quote_ident(a.attname) || ')'
                   WHEN 'point' THEN 'float8send((r.' || quote_ident(a.attname) || ')[0]) || float8send((r.'
                                     || quote_ident(a.attname) || ')[1])'
                   WHEN '_float4' THEN '(SELECT array_agg(float4send(e) ORDER BY o) FROM unnest(r.'
                                       || quote_ident(a.attname) || ') WITH ORDINALITY u(e, o))'
                   WHEN '_float8' THEN '(SELECT array_agg(float8send(e) ORDER BY o) FROM unnest(r.'
                                       || quote_ident(a.attname) || ') WITH ORDINALITY u(e, o))'
                   ELSE 'r.' || quote_ident(a.attname) || '::text'
                 END, ', ' ORDER BY a.attnum)
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
       coalesce((SELECT string_agg('r.' || quote_ident(a.attname), ', ' ORDER BY k.ord)
                   FROM pg_index x
                   CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                   JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                  WHERE x.indrelid = c.oid AND x.indisprimary), '')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname !~ '^pg_' AND n.nspname !~ '^pgcutover'
 ORDER BY 1)SQL");
  std::vector<TableSpec> out;
  for (auto &r : rows) {
    TableSpec t{*r[0], "ROW(" + *r[1] + ")::text", *r[2]};
    if (t.order_by.empty()) t.order_by = t.row_expr;  // no key: the row's own text
    out.push_back(std::move(t));
  }
  return out;
}

// table -> "rows md5" for every table, in one query (one session, one snapshot).
std::map<std::string, std::string> digests(const std::string &conninfo, const std::vector<TableSpec> &tables) {
  std::string sql;
  for (const auto &t : tables) {
    if (!sql.empty()) sql += "\nUNION ALL ";
    std::string lit = "'" + std::regex_replace(t.quoted, std::regex("'"), "''") + "'";
    sql += "SELECT " + lit + "::text, count(*)::text || ' ' || coalesce(md5(string_agg(md5(" + t.row_expr +
           "), '' ORDER BY " + t.order_by + ")), '') FROM ONLY " + t.quoted + " AS r";
  }
  std::map<std::string, std::string> out;
  if (sql.empty()) return out;
  for (auto &r : query_rows(conninfo, sql)) out[*r[0]] = *r[1];
  return out;
}

class VersionMatrix : public ::testing::TestWithParam<Pair> {
 protected:
  std::string label() const {
    return std::to_string(GetParam().source) + "->" + std::to_string(GetParam().target);
  }
  // Records a failed step: a gtest failure and a summary line.
  void step_failed(const std::string &step, const std::string &what) {
    ADD_FAILURE() << "[" << label() << "] " << step << ": " << what;
    summary().push_back(label() + "  " + step + ": " + first_lines(what));
  }
  // Runs pgcutover; a nonzero exit is a failed step. Returns whether it passed.
  bool run_step(const std::string &step, std::vector<std::string> args, std::string *out = nullptr) {
    RunResult r;
    try {
      r = run_pgcutover(args, {}, 600);
    } catch (const std::exception &e) {
      step_failed(step, e.what());
      return false;
    }
    std::fprintf(stderr, "[versions] %s %s: exit %d\n", label().c_str(), step.c_str(), r.exit_code);
    if (out) *out = r.out;
    if (r.exit_code != 0) {
      step_failed(step, "exit " + std::to_string(r.exit_code) + ": " + r.err + (r.err.empty() ? r.out : ""));
      return false;
    }
    return true;
  }
  void check_differences_found_and_repaired(const std::string &src, const std::string &dst,
                                            const std::function<std::vector<std::string>(std::vector<std::string>)> &with);
};

// Breaks the target on purpose (a text column, a float column by one unit in
// the last place, a missing row, a row in a table large enough to bisect),
// then `verify --mode full --hash server` must name exactly those keys and
// columns (no float column of a row that is equal: its text differs between
// 10/11 and 12+, its bits do not), and `verify --repair` must make the target
// equal again (the compare afterwards checks it).
void VersionMatrix::check_differences_found_and_repaired(
    const std::string &src, const std::string &dst,
    const std::function<std::vector<std::string>(std::vector<std::string>)> &with) {
  (void)src;
  try {
    exec(dst, "UPDATE public.vm_events SET v = v || ' broken' WHERE id = 7; "
              "DELETE FROM public.vm_events WHERE id = 11; "
              "UPDATE public.all_types SET c_double = c_double * (1 + 2.3e-16) WHERE id = 5; "
              "UPDATE public.skewed SET note = 'broken' WHERE id = 777");
  } catch (const std::exception &e) {
    step_failed("break the target", e.what());
    return;
  }
  if (query_value(dst, "SELECT count(*) FROM public.all_types WHERE id = 5") != "1")
    step_failed("break the target", "public.all_types has no row 5 on the target");
  RunResult r;
  try {
    r = run_pgcutover(with({"verify", "--mode", "full", "--hash", "server", "--json"}), {}, 600);
  } catch (const std::exception &e) {
    step_failed("verify --mode full", e.what());
    return;
  }
  std::fprintf(stderr, "[versions] %s verify --mode full on a broken target: exit %d\n", label().c_str(), r.exit_code);
  std::set<std::string> found;
  try {
    auto j = nlohmann::json::parse(r.out);
    for (const auto &t : j.at("tables"))
      for (const auto &m : t.at("mismatches"))
        for (const auto &k : m.at("keys")) {
          std::string cols;
          if (k.contains("columns"))
            for (const auto &c : k["columns"]) cols += (cols.empty() ? "" : ",") + c.get<std::string>();
          found.insert(t.at("table").get<std::string>() + " " + k.at("key")[0].get<std::string>() + " " +
                       k.at("kind").get<std::string>() + " " + cols);
        }
  } catch (const std::exception &e) {
    step_failed("verify --mode full", std::string("no JSON result (") + e.what() + "): exit " +
                                          std::to_string(r.exit_code) + ": " + r.err);
    return;
  }
  const std::set<std::string> expected = {"public.vm_events 7 different v", "public.vm_events 11 missing ",
                                          "public.all_types 5 different c_double", "public.skewed 777 different note"};
  if (r.exit_code != 3 || found != expected) {
    std::string list;
    for (const auto &f : found) list += (list.empty() ? "" : "; ") + f;
    step_failed("verify --mode full", "expected exit 3 and exactly the 4 broken keys, got exit " +
                                          std::to_string(r.exit_code) + " and {" + list + "}: " + r.err);
  }
  run_step("verify --repair", with({"verify", "--mode", "hash", "--hash", "server", "--repair"}));
  run_step("verify after repair", with({"verify", "--mode", "hash"}));
}

TEST_P(VersionMatrix, CutoverManeuver) {
  const Pair pair = GetParam();
  const std::string src_bin = pg_bin_dir_for_major(pair.source);
  const std::string dst_bin = pg_bin_dir_for_major(pair.target);
  ASSERT_FALSE(src_bin.empty() || dst_bin.empty())
      << "PostgreSQL " << pair.source << " or " << pair.target
      << " is not installed: bash scripts/lib/pg_versions.sh install " << pair.source << " " << pair.target;

  std::vector<std::unique_ptr<ScopedCluster>> clusters;
  ASSERT_NO_THROW(clusters = start_scoped_clusters({{"source", src_bin}, {"target", dst_bin}}));
  Cluster &source = clusters[0]->cluster();
  Cluster &target = clusters[1]->cluster();
  ASSERT_EQ(source.server_major, pair.source);
  ASSERT_EQ(target.server_major, pair.target);

  const std::string db = "vm";
  recreate_database(source, db);
  recreate_database(target, db);
  const std::string src = source.conninfo(db), dst = target.conninfo(db);
  for (const char *file : FIXTURE_FILES) ASSERT_NO_THROW(run_sql_file(src, fixture_for_major(file, pair.source)));
  ASSERT_NO_THROW(exec(src, EVENTS_SQL));
  const bool downgrade_17 = pair.source >= 17 && pair.target < 17;
  if (downgrade_17) ASSERT_NO_THROW(exec(src, std::string(DOWNGRADE_SQL) + ";" + DOWNGRADE_VALUES_SQL));

  // pg_dump cannot read a source newer than itself: the copy must refuse.
  const int pg_dump_major = server_major_of(pg_bin_dir());
  const bool schema_by_hand = pair.source > pg_dump_major;
  const std::vector<std::string> ends = {"--source", src, "--target", dst};
  auto with = [&](std::vector<std::string> a) {
    a.insert(a.begin() + 1, ends.begin(), ends.end());
    return a;
  };
  if (schema_by_hand) {
    RunResult r = run_pgcutover(with({"copy"}), {}, 600);
    std::fprintf(stderr, "[versions] %s copy (expected refusal): exit %d\n", label().c_str(), r.exit_code);
    const std::string v_src = std::to_string(pair.source), v_dump = std::to_string(pg_dump_major);
    if (r.exit_code == 0)
      step_failed("copy refusal", "copy from a " + v_src + " source with pg_dump " + v_dump + " exited 0");
    else if (r.err.find("pg_dump") == std::string::npos && r.err.find(v_src) == std::string::npos)
      step_failed("copy refusal", "the message names neither pg_dump nor the version: " + r.err);
    else if (r.err.find("aborting because of server version mismatch") != std::string::npos)
      step_failed("copy refusal", "refused only by pg_dump itself, not up front by pgcutover (which should "
                                  "compare pg_dump's version with the source's before starting): " + r.err);
    const std::string created = query_value(
        dst, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
             "AND n.nspname !~ '^pg_' AND n.nspname !~ '^pgcutover'");
    if (created != "0") step_failed("copy refusal", "the refused copy left " + created + " table(s) on the target");
    summary().push_back(label() + "  (copy refused: exit " + std::to_string(r.exit_code) + ": " +
                        first_lines(r.err, 3) + ")");
    // The schema by hand: the same files, then empty tables.
    for (const char *file : FIXTURE_FILES) ASSERT_NO_THROW(run_sql_file(dst, fixture_for_major(file, pair.target)));
    ASSERT_NO_THROW(exec(dst, EVENTS_SQL));
    if (downgrade_17) ASSERT_NO_THROW(exec(dst, DOWNGRADE_SQL));
    ASSERT_NO_THROW(exec(dst, "DO $$ DECLARE t record; BEGIN FOR t IN SELECT c.oid::regclass AS r FROM pg_class c "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname "
                              "IN ('public', 'Odd \"Schema\"') LOOP EXECUTE 'TRUNCATE ' || t.r || ' CASCADE'; "
                              "END LOOP; END $$"));
    if (downgrade_17) {
      // The older target cannot hold infinite intervals: refused per column,
      // before any data moves; `plan` shows both versions and the refusal.
      RunResult p = run_pgcutover(with({"plan"}), {}, 600);
      const std::string v_line = "source: PostgreSQL " + std::to_string(pair.source) + ".";
      if (p.out.find(v_line) == std::string::npos ||
          p.out.find("target: PostgreSQL " + std::to_string(pair.target) + ".") == std::string::npos)
        step_failed("plan versions", "plan does not show both server versions: " + p.out);
      if (p.out.find("refused: public.vm_intervals") == std::string::npos ||
          p.out.find("column \"d\" (interval) holds infinite intervals") == std::string::npos ||
          p.out.find("column \"ds\" (interval[]) holds infinite intervals") == std::string::npos)
        step_failed("plan refusal", "plan does not refuse the infinite intervals by column: exit " +
                                        std::to_string(p.exit_code) + ": " + p.out + p.err);
      RunResult r = run_pgcutover(with({"copy", "--no-schema"}), {}, 600);
      std::fprintf(stderr, "[versions] %s copy with infinite intervals (expected refusal): exit %d\n", label().c_str(),
                   r.exit_code);
      if (r.exit_code != 2 || r.err.find("vm_intervals") == std::string::npos ||
          r.err.find("infinite intervals") == std::string::npos)
        step_failed("interval refusal", "exit " + std::to_string(r.exit_code) + ": " + r.err);
      const std::string moved = query_value(
          dst, "SELECT (SELECT count(*) FROM public.vm_intervals) + (SELECT count(*) FROM public.vm_events) + "
               "(SELECT count(*) FROM public.all_types)");
      if (moved != "0") step_failed("interval refusal", moved + " row(s) reached the target before the refusal");
      summary().push_back(label() + "  (infinite intervals refused: exit " + std::to_string(r.exit_code) + ": " +
                          first_lines(r.err, 2) + ")");
      ASSERT_NO_THROW(exec(src, DOWNGRADE_FIX_SQL));
    }
    run_step("copy --no-schema", with({"copy", "--no-schema"}));
  } else {
    run_step("copy", with({"copy"}));
  }
  run_step("verify after copy", with({"verify", "--mode", "hash"}));

  // Changes, then a sync while a writer keeps inserting and updating.
  try {
    exec(src, SOURCE_CHANGES_SQL);
  } catch (const std::exception &e) {
    step_failed("source changes", e.what());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::string writer_error;
  std::thread writer([&] {
    try {
      while (!stop) {
        exec(src, "INSERT INTO public.vm_events (v, amount, ratio) VALUES ('during sync', 0.3, 0.3); "
                  "UPDATE public.vm_events SET v = v || '+', updated_at = clock_timestamp() "
                  "WHERE id = (SELECT max(id) - 5 FROM public.vm_events)");
        ++writes;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (const std::exception &e) {
      writer_error = e.what();
    }
  });
  std::string sync_json;
  bool synced = run_step("sync during writes",
                         with({"sync", "--overlap", "100ms", "--allow-scan", "--deletes", "detect", "--jobs", "2", "--json"}),
                         &sync_json);
  stop = true;
  writer.join();
  if (!writer_error.empty()) step_failed("writer", writer_error);
  if (synced) {
    // The rows inserted past the copy's largest key (5,200, less the few the
    // changes delete again, plus the writer's) went in with a plain COPY.
    long long appended = -1;
    std::string seen;
    try {
      const nlohmann::json j = nlohmann::json::parse(sync_json);
      for (const auto &t : j.at("tables")) {
        seen += " " + t["table"].get<std::string>() + "=" + t["rows_appended"].dump();
        if (t["table"] == "public.vm_events") appended = t["rows_appended"].get<long long>();
      }
    } catch (const std::exception &e) {
      step_failed("sync during writes", std::string("its --json output does not parse: ") + e.what());
    }
    if (appended < 5000)
      step_failed("sync during writes", "public.vm_events: " + std::to_string(appended) +
                                            " row(s) appended without a stage, expected nearly all of the 5200 new ones (tables:" +
                                            seen + ")");
  }
  std::fprintf(stderr, "[versions] %s writer: %d write transactions during the sync\n", label().c_str(), writes.load());

  run_step("final sync", with({"sync", "--final", "--overlap", "100ms", "--allow-scan", "--deletes", "detect"}));
  run_step("verify after final sync", with({"verify", "--mode", "hash"}));
  // The servers' own hashes agree as well: hashtextextended where both have it
  // (11+), md5 otherwise, floats through their bits on either.
  run_step("verify --hash server", with({"verify", "--mode", "hash", "--hash", "server"}));
  check_differences_found_and_repaired(src, dst, with);

  // The independent compare.
  try {
    const auto tables = user_tables(src);
    std::set<std::string> on_target;
    for (const auto &t : user_tables(dst)) on_target.insert(t.quoted);
    std::vector<TableSpec> both;
    for (const auto &t : tables) {
      if (on_target.count(t.quoted))
        both.push_back(t);
      else
        step_failed("compare", t.quoted + " is missing on the target");
    }
    const auto a = digests(src, both);
    const auto b = digests(dst, both);
    EXPECT_GE(tables.size(), 6u);
    for (const auto &[table, digest] : a) {
      auto it = b.find(table);
      if (it == b.end())
        step_failed("compare", table + " has no digest on the target");
      else if (it->second != digest)
        step_failed("compare", table + " differs: source {" + digest + "}, target {" + it->second + "}");
    }
  } catch (const std::exception &e) {
    step_failed("compare", e.what());
  }
  // Sequences: the target's at least where the source's stand (after --final).
  try {
    const std::string sql = "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), "
                            "coalesce(last_value, 0) FROM pg_sequences WHERE schemaname !~ '^pgcutover' ORDER BY 1";
    std::map<std::string, long long> target_values;
    for (auto &r : query_rows(dst, sql)) target_values[*r[0]] = std::stoll(*r[1]);
    for (auto &r : query_rows(src, sql)) {
      auto it = target_values.find(*r[0]);
      if (it == target_values.end())
        step_failed("sequences", *r[0] + " is missing on the target");
      else if (it->second < std::stoll(*r[1]))
        step_failed("sequences", *r[0] + " is at " + std::to_string(it->second) + " on the target, " + *r[1] +
                                     " on the source");
    }
  } catch (const std::exception &e) {
    step_failed("sequences", e.what());
  }
}

// The compare itself: the same fixture files (deterministic: no clock, no
// random) loaded into a 10 and a 17 server give equal digests (floats as
// bits), though the plain text of a double precision column differs.
TEST(VersionCompare, FloatBitsMakeDigestsEqualAcrossMajors) {
  const std::string old_bin = pg_bin_dir_for_major(10), new_bin = pg_bin_dir_for_major(17);
  if (old_bin.empty() || new_bin.empty()) GTEST_FAIL() << "PostgreSQL 10 or 17 not installed (run scripts/lib/pg_versions.sh install 10 17)";
  auto clusters = start_scoped_clusters({{"old", old_bin}, {"new", new_bin}});
  std::vector<std::string> conninfos;
  for (auto &c : clusters) {
    recreate_database(c->cluster(), "vc");
    const std::string ci = c->cluster().conninfo("vc");
    for (const char *file : FIXTURE_FILES) run_sql_file(ci, fixture_for_major(file, c->cluster().server_major));
    conninfos.push_back(ci);
  }
  const auto tables = user_tables(conninfos[0]);
  EXPECT_EQ(digests(conninfos[0], tables), digests(conninfos[1], tables));
  const std::string plain = "SELECT md5(string_agg(c_double::text, '' ORDER BY id)) FROM public.all_types";
  EXPECT_NE(query_value(conninfos[0], plain), query_value(conninfos[1], plain))
      << "the plain text of floats is expected to differ between 10 and 17 (extra_float_digits = 3)";
}

// A downgrade to a major before 14: a multirange column cannot go, whatever
// its values. `plan` names both versions and the column; `copy` stops before
// anything is written to the target (no table created, no ledger).
TEST(VersionRefusals, MultirangeIntoTwelveIsRefusedBeforeAnythingIsWritten) {
  const std::string src_bin = pg_bin_dir_for_major(15), dst_bin = pg_bin_dir_for_major(12);
  ASSERT_FALSE(src_bin.empty() || dst_bin.empty()) << "PostgreSQL 15 or 12 not installed (scripts/lib/pg_versions.sh install 12)";
  auto clusters = start_scoped_clusters({{"source", src_bin}, {"target", dst_bin}});
  recreate_database(clusters[0]->cluster(), "vr");
  recreate_database(clusters[1]->cluster(), "vr");
  const std::string src = clusters[0]->cluster().conninfo("vr"), dst = clusters[1]->cluster().conninfo("vr");
  exec(src, "CREATE TABLE public.slots (id integer PRIMARY KEY, busy int4multirange, label text);"
            "INSERT INTO public.slots SELECT g, int4multirange(int4range(g, g + 2)), 'x' FROM generate_series(1, 10) g;"
            "CREATE TABLE public.plain (id integer PRIMARY KEY, v double precision);"
            "INSERT INTO public.plain SELECT g, g / 3.0 FROM generate_series(1, 10) g");
  RunResult p = run_pgcutover({"plan", "--source", src, "--target", dst});
  EXPECT_EQ(p.exit_code, 3) << p.err << p.out;
  EXPECT_NE(p.out.find("source: PostgreSQL 15."), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("target: PostgreSQL 12."), std::string::npos) << p.out;
  EXPECT_NE(p.out.find("refused: public.slots: column \"busy\" (int4multirange) is a multirange type, which "
                       "PostgreSQL 12 does not have"),
            std::string::npos)
      << p.out;
  EXPECT_EQ(p.out.find("refused: public.plain"), std::string::npos) << p.out;
  RunResult c = run_pgcutover({"copy", "--source", src, "--target", dst});
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_NE(c.err.find("public.slots"), std::string::npos) << c.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                             "WHERE c.relkind = 'r' AND n.nspname = 'public'"),
            "0");
  // Leaving the table out, the rest goes.
  RunResult ok = run_pgcutover({"copy", "--source", src, "--target", dst, "--table", "public.plain"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM public.plain"), "10");
}

// The oldest source major: a partition truncated and refilled on the source
// while the copy, past its snapshot, waits for it (TRUNCATE is not MVCC-safe:
// the copy's snapshot sees the partition empty). The range read so fails
// naming the partition and commits nothing; the rerun copies it. The check
// (pg_relation_filenode against the snapshot's pg_class) works on 10 as on
// 15, and on the leaf partitions the copy reads.
TEST(VersionFaults, APartitionTruncatedOnATenSourceDuringTheCopyIsCopiedAgain) {
  const std::string src_bin = pg_bin_dir_for_major(10), dst_bin = pg_bin_dir_for_major(15);
  ASSERT_FALSE(src_bin.empty() || dst_bin.empty()) << "PostgreSQL 10 or 15 not installed (scripts/lib/pg_versions.sh install 10)";
  auto clusters = start_scoped_clusters({{"source", src_bin}, {"target", dst_bin}});
  recreate_database(clusters[0]->cluster(), "vt");
  recreate_database(clusters[1]->cluster(), "vt");
  const std::string src = clusters[0]->cluster().conninfo("vt"), dst = clusters[1]->cluster().conninfo("vt");
  const std::string schema =
      "CREATE TABLE public.events (id integer NOT NULL, region text NOT NULL, v text) PARTITION BY LIST (region);"
      "CREATE TABLE public.events_a PARTITION OF public.events FOR VALUES IN ('a');"
      "CREATE TABLE public.events_b PARTITION OF public.events FOR VALUES IN ('b');"
      "ALTER TABLE public.events_a ADD PRIMARY KEY (id); ALTER TABLE public.events_b ADD PRIMARY KEY (id);";
  exec(src, schema + "INSERT INTO public.events SELECT g, CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END, 'v' || g "
                     "FROM generate_series(1, 2000) g; ANALYZE");
  exec(dst, schema);
  auto content = [](const std::string &conninfo) {
    return query_value(conninfo, "SELECT count(*) || '/' || coalesce(md5(string_agg(id || ':' || region || ':' || v, ',' "
                                 "ORDER BY id)), '') FROM public.events");
  };
  hostile::Session holder(src);
  holder.exec("BEGIN; LOCK TABLE public.events_b IN ACCESS EXCLUSIVE MODE");
  PgcutoverProcess p({"copy", "--source", src, "--target", dst, "--jobs", "1"});
  bool waiting = false;
  for (int i = 0; i < 600 && !waiting && p.running(); ++i) {
    waiting = query_value(src, "SELECT count(*) FROM pg_locks WHERE relation = 'public.events_b'::regclass AND NOT granted") != "0";
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(waiting) << "the copy never waited on events_b: " << p.err_so_far();
  holder.exec("CREATE TEMP TABLE keep AS SELECT * FROM public.events_b; TRUNCATE public.events_b; "
              "INSERT INTO public.events_b SELECT * FROM keep; COMMIT");
  RunResult r = p.wait(300);
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("public.events_b was truncated, rewritten"), std::string::npos) << r.err;
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM public.events_b"), "0") << "a range read empty was committed";
  RunResult again = run_pgcutover({"copy", "--source", src, "--target", dst, "--jobs", "1"}, {}, 300);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(content(dst), content(src));
  EXPECT_EQ(query_value(dst, "SELECT count(*) FROM public.events_b"), "1000");
}

INSTANTIATE_TEST_SUITE_P(Pairs, VersionMatrix, ::testing::ValuesIn(matrix()),
                         [](const ::testing::TestParamInfo<Pair> &info) {
                           return "From" + std::to_string(info.param.source) + "To" +
                                  std::to_string(info.param.target);
                         });

}  // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int rc = RUN_ALL_TESTS();
  std::fprintf(stderr, "\n[versions] summary (%zu line(s)):\n", summary().size());
  for (const auto &line : summary()) std::fprintf(stderr, "  %s\n", line.c_str());
  return rc;
}
