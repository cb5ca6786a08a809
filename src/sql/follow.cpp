// Statements of follow mode's apply (see follow.hpp).
#include "pgcutover/sql/follow.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace pgcutover::sql::follow {

namespace {

std::string stage_ref(const std::string &stage) { return "pg_temp." + quote_ident(stage); }

// c is one of `names`.
bool contains(const std::vector<std::string> &names, const std::string &c) {
  return std::find(names.begin(), names.end(), c) != names.end();
}

// t.k1 = s.k1 AND ...
std::string key_match(const std::vector<std::string> &key) {
  std::string out;
  for (const std::string &k : key) out += (out.empty() ? "" : " AND ") + fmt::format("t.{0} = s.{0}", quote_ident(k));
  return out;
}

}  // namespace

std::string target_columns(int server_version) {
  return std::string(
             "SELECT a.attname::text, "
             "(WITH RECURSIVE b(t, m) AS (SELECT a.atttypid, a.atttypmod UNION ALL "
             "SELECT ty.typbasetype, ty.typtypmod FROM b JOIN pg_catalog.pg_type ty ON ty.oid = b.t WHERE ty.typtype = 'd') "
             "SELECT pg_catalog.format_type(b.t, b.m) FROM b JOIN pg_catalog.pg_type ty ON ty.oid = b.t "
             "WHERE ty.typtype <> 'd'), a.attidentity = 'a', ") +
         (server_version >= 120000 ? "a.attgenerated <> ''" : "false") +
         " FROM pg_catalog.pg_attribute a WHERE a.attrelid = (SELECT c.oid FROM pg_catalog.pg_class c "
         "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2) "
         "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
}

std::string create_stage(const std::string &stage, const std::vector<std::string> &columns,
                         const std::vector<std::string> &types) {
  std::string cols;
  for (size_t i = 0; i < columns.size(); ++i) cols += fmt::format("{} {}, ", quote_ident(columns[i]), types.at(i));
  return fmt::format("CREATE TEMP TABLE IF NOT EXISTS {} ({}{} \"char\" NOT NULL, {} boolean[]) ON COMMIT DELETE ROWS",
                     stage_ref(stage), cols, quote_ident(STAGE_ACTION), quote_ident(STAGE_UNCHANGED));
}

std::string copy_into_stage(const std::string &stage, const std::vector<std::string> &columns) {
  std::vector<std::string> all = columns;
  all.push_back(STAGE_ACTION);
  all.push_back(STAGE_UNCHANGED);
  return fmt::format("COPY {} ({}) FROM STDIN", stage_ref(stage), ident_list(all));
}

std::string empty_stage(const std::string &stage) { return "DELETE FROM " + stage_ref(stage); }
const char *replica_role() { return "SET session_replication_role = replica"; }
const char *savepoint_sets() { return "SAVEPOINT pgcutover_sets"; }
const char *rollback_to_sets() { return "ROLLBACK TO SAVEPOINT pgcutover_sets"; }
const char *release_sets() { return "RELEASE SAVEPOINT pgcutover_sets"; }

std::string delete_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &key) {
  return fmt::format("DELETE FROM {} AS t USING {} AS s WHERE s.{} = 'd' AND {}", table.quoted(), stage_ref(stage),
                     quote_ident(STAGE_ACTION), key_match(key));
}

std::string update_staged_partial(const QualifiedName &table, const std::string &stage,
                                  const std::vector<std::string> &columns, const std::vector<std::string> &key,
                                  const std::vector<std::string> &settable) {
  std::string sets;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (contains(key, columns[i]) || !contains(settable, columns[i])) continue;  // the key is matched, never changed here
    if (!sets.empty()) sets += ", ";
    sets += fmt::format("{0} = CASE WHEN s.{1}[{2}] THEN t.{0} ELSE s.{0} END", quote_ident(columns[i]),
                        quote_ident(STAGE_UNCHANGED), i + 1);
  }
  if (sets.empty()) sets = fmt::format("{0} = t.{0}", quote_ident(key.front()));
  return fmt::format("UPDATE {} AS t SET {} FROM {} AS s WHERE s.{} = 'p' AND {}", table.quoted(), sets,
                     stage_ref(stage), quote_ident(STAGE_ACTION), key_match(key));
}

std::string upsert_staged(const QualifiedName &table, const std::string &stage, const std::vector<std::string> &columns,
                          const std::vector<std::string> &key, const std::vector<std::string> &settable) {
  std::string sets;
  for (const std::string &c : columns)
    if (!contains(key, c) && contains(settable, c))
      sets += (sets.empty() ? "" : ", ") + fmt::format("{0} = EXCLUDED.{0}", quote_ident(c));
  return fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} WHERE {} = 'u' ON CONFLICT ({}) {}",
                     table.quoted(), ident_list(columns), ident_list(columns), stage_ref(stage),
                     quote_ident(STAGE_ACTION), ident_list(key), sets.empty() ? "DO NOTHING" : "DO UPDATE SET " + sets);
}

std::string upsert_row(const QualifiedName &table, const std::vector<std::string> &columns,
                       const std::vector<std::string> &key, const std::vector<std::string> &settable) {
  std::string values, sets;
  for (size_t i = 0; i < columns.size(); ++i) {
    values += (i ? ", $" : "$") + std::to_string(i + 1);
    if (!contains(key, columns[i]) && contains(settable, columns[i]))
      sets += (sets.empty() ? "" : ", ") + fmt::format("{0} = EXCLUDED.{0}", quote_ident(columns[i]));
  }
  return fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES ({}) ON CONFLICT ({}) {}", table.quoted(),
                     ident_list(columns), values, ident_list(key), sets.empty() ? "DO NOTHING" : "DO UPDATE SET " + sets);
}

std::string update_row(const QualifiedName &table, const std::vector<std::string> &set_columns,
                       const std::vector<std::string> &key) {
  std::string sets, where;
  for (size_t i = 0; i < set_columns.size(); ++i)
    sets += (i ? ", " : "") + fmt::format("{} = ${}", quote_ident(set_columns[i]), i + 1);
  for (size_t j = 0; j < key.size(); ++j)
    where += (j ? " AND " : "") + fmt::format("{} = ${}", quote_ident(key[j]), set_columns.size() + j + 1);
  return fmt::format("UPDATE {} SET {} WHERE {}", table.quoted(), sets, where);
}

std::string delete_row(const QualifiedName &table, const std::vector<std::string> &key) {
  std::string where;
  for (size_t j = 0; j < key.size(); ++j) where += (j ? " AND " : "") + fmt::format("{} = ${}", quote_ident(key[j]), j + 1);
  return fmt::format("DELETE FROM {} WHERE {}", table.quoted(), where);
}

std::string truncate_tables(const std::vector<QualifiedName> &tables) {
  std::string out = "TRUNCATE";
  for (size_t i = 0; i < tables.size(); ++i) out += (i ? ", ONLY " : " ONLY ") + tables[i].quoted();
  return out;
}

std::string create_applied(const Ident &s) {
  return fmt::format("CREATE SCHEMA IF NOT EXISTS {0}; "
                     "CREATE TABLE IF NOT EXISTS {0}.follow_applied (slot text PRIMARY KEY, applied_end pg_lsn NOT NULL, "
                     "applied_at timestamptz NOT NULL, batches bigint NOT NULL DEFAULT 0)",
                     s);
}

std::string read_applied(const Ident &s) {
  return fmt::format("SELECT applied_end::text, batches FROM {}.follow_applied WHERE slot = $1", s);
}

std::string record_applied(const Ident &s) {
  return fmt::format("INSERT INTO {0}.follow_applied AS a (slot, applied_end, applied_at, batches) "
                     "VALUES ($1, $2::pg_lsn, pg_catalog.clock_timestamp(), 1) ON CONFLICT (slot) DO UPDATE SET "
                     "applied_end = EXCLUDED.applied_end, applied_at = EXCLUDED.applied_at, batches = a.batches + 1",
                     s);
}

}  // namespace pgcutover::sql::follow
