// Statements of the copy pipeline (see copy.hpp).
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/sql/catalog.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "fragments.hpp"

namespace pgcutover::sql {

namespace {

std::string non_key_sets(const std::vector<std::string> &columns, const std::vector<std::string> &key,
                         const char *from) {
  std::string sets;
  for (const std::string &c : columns)
    if (std::find(key.begin(), key.end(), c) == key.end())
      sets += (sets.empty() ? "" : ", ") + quote_ident(c) + " = " + from + quote_ident(c);
  return sets;
}

std::string key_join(const std::vector<std::string> &key) {
  std::string on;
  for (size_t i = 0; i < key.size(); ++i)
    on += (i ? " AND " : "") + std::string("t.") + quote_ident(key[i]) + " = s." + quote_ident(key[i]);
  return on;
}

// " (a, b)" after COPY's table name; nothing for a table without columns
// (COPY t () is a syntax error, COPY t alone takes its zero columns).
std::string copy_columns(const std::vector<std::string> &columns) {
  return columns.empty() ? "" : " (" + ident_list(columns) + ")";
}

}  // namespace

std::string copy_out(const QualifiedName &table, const std::vector<std::string> &columns, const KeySpec &key,
                     const KeyInterval &range, copybin::StreamFormat format, const std::string &filter) {
  return fmt::format("COPY (SELECT {} FROM ONLY {}{}) TO STDOUT {}", ident_list(columns), table,
                     detail::where_range(key, range, filter), detail::format_option(format));
}

std::string copy_out_keys(const QualifiedName &table, const std::vector<std::string> &columns,
                          const std::vector<std::string> &key, const std::vector<std::string> &key_types,
                          const std::vector<std::vector<std::string>> &keys, copybin::StreamFormat format) {
  std::string values;
  for (const std::vector<std::string> &k : keys) {
    values += values.empty() ? "(" : ", (";
    for (size_t i = 0; i < k.size(); ++i) values += (i ? ", " : "") + quote_literal(k[i]) + "::" + key_types.at(i);
    values += ")";
  }
  return fmt::format("COPY (SELECT {} FROM ONLY {} WHERE ({}) IN (VALUES {})) TO STDOUT {}", ident_list(columns), table,
                     ident_list(key), values, detail::format_option(format));
}

std::string copy_in(const QualifiedName &table, const std::vector<std::string> &columns,
                    copybin::StreamFormat format) {
  return fmt::format("COPY {}{} FROM STDIN {}", table, copy_columns(columns), detail::format_option(format));
}

std::string create_stage_table(const std::string &stage, const QualifiedName &target,
                               const std::vector<std::string> &columns) {
  return fmt::format("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM ONLY {} WITH NO DATA",
                     quote_ident(stage), ident_list(columns), target);
}

std::string copy_in_stage(const std::string &stage, const std::vector<std::string> &columns,
                          copybin::StreamFormat format) {
  return fmt::format("COPY {}{} FROM STDIN {}", temp_stage_ref(stage), copy_columns(columns),
                     detail::format_option(format));
}

std::string stage_storage_main(const std::string &stage) {
  return fmt::format("SELECT 'ALTER TABLE {} ' || string_agg(format('ALTER COLUMN %I SET STORAGE MAIN', attname), ', ') "
                     "FROM pg_catalog.pg_attribute WHERE attrelid = {}::regclass AND attnum > 0 AND NOT attisdropped "
                     "AND attstorage = 'x'",
                     temp_stage_ref(stage), quote_literal(temp_stage_ref(stage)));
}

std::string temp_stage_ref(const std::string &stage) { return "pg_temp." + quote_ident(stage); }

std::string upsert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns, const std::vector<std::string> &key,
                              bool skip_unchanged, const std::string &change_column) {
  std::string cols = ident_list(columns);
  std::string out = fmt::format("INSERT INTO {} AS t ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {} ON CONFLICT ({}) ", target, cols,
                                cols, stage, ident_list(key));
  std::string sets = non_key_sets(columns, key, "EXCLUDED.");
  if (sets.empty()) return out + "DO NOTHING";
  out += "DO UPDATE SET " + sets;
  if (skip_unchanged && !change_column.empty())
    out += " WHERE t." + quote_ident(change_column) + " IS DISTINCT FROM EXCLUDED." + quote_ident(change_column) + " OR";
  else if (skip_unchanged)
    out += " WHERE";
  if (skip_unchanged)
    out += " ROW(" + ident_list(columns, "t.") + ")::text IS DISTINCT FROM ROW(" + ident_list(columns, "EXCLUDED.") +
           ")::text";
  return out;
}

std::string merge_from_stage(const QualifiedName &target, const std::string &stage,
                             const std::vector<std::string> &columns, const std::vector<std::string> &key) {
  std::string sets = non_key_sets(columns, key, "s.");
  std::string out = fmt::format("MERGE INTO {} AS t USING {} AS s ON {} ", target, stage, key_join(key));
  if (!sets.empty()) out += "WHEN MATCHED THEN UPDATE SET " + sets + " ";
  return out + fmt::format("WHEN NOT MATCHED THEN INSERT ({}) OVERRIDING SYSTEM VALUE VALUES ({})", ident_list(columns),
                           ident_list(columns, "s."));
}

std::string delete_matching_stage(const QualifiedName &target, const std::string &stage,
                                  const std::vector<std::string> &key) {
  return fmt::format("DELETE FROM {} AS t USING {} AS s WHERE {}", target, stage, key_join(key));
}

std::string unique_column_sets(int server_version) {
  return "SELECT array_to_json(array_agg(a.attname::text ORDER BY k.n))::text FROM pg_catalog.pg_index x"
         " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
         " JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
         " WHERE x.indrelid = $1::regclass AND x.indisunique AND NOT x.indisprimary AND x.indpred IS NULL"
         " AND x.indexprs IS NULL AND k.n <= " + catalog::index_key_columns(server_version) +
         " GROUP BY x.indexrelid ORDER BY x.indexrelid";
}

std::string delete_unique_holders(const QualifiedName &target, const std::string &stage,
                                  const std::vector<std::string> &unique_columns, const std::vector<std::string> &key) {
  std::string same, other;
  for (size_t i = 0; i < unique_columns.size(); ++i)
    same += (i ? " AND " : "") + std::string("t.") + quote_ident(unique_columns[i]) + " = s." + quote_ident(unique_columns[i]);
  for (size_t i = 0; i < key.size(); ++i)
    other += (i ? ", " : "") + std::string("t.") + quote_ident(key[i]);
  std::string other_s;
  for (size_t i = 0; i < key.size(); ++i) other_s += (i ? ", " : "") + std::string("s.") + quote_ident(key[i]);
  std::string returning;
  for (size_t i = 0; i < key.size(); ++i) returning += (i ? ", " : "") + std::string("t.") + quote_ident(key[i]) + "::text";
  return fmt::format("DELETE FROM {} AS t USING {} AS s WHERE {} AND ({}) IS DISTINCT FROM ({}) RETURNING {}", target,
                     stage, same, other, other_s, returning);
}

std::string insert_from_stage(const QualifiedName &target, const std::string &stage,
                              const std::vector<std::string> &columns) {
  return fmt::format("INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE SELECT {} FROM {}", target, ident_list(columns),
                     ident_list(columns), stage);
}

std::string create_unlogged_stage(const QualifiedName &stage, const QualifiedName &target,
                                  const std::vector<std::string> &columns) {
  return fmt::format("CREATE UNLOGGED TABLE {} AS SELECT {} FROM ONLY {} WITH NO DATA", stage, ident_list(columns), target);
}

std::string savepoint(const std::string &name) { return "SAVEPOINT " + quote_ident(name); }
std::string rollback_to_savepoint(const std::string &name) { return "ROLLBACK TO SAVEPOINT " + quote_ident(name); }
std::string release_savepoint(const std::string &name) { return "RELEASE SAVEPOINT " + quote_ident(name); }

std::string copy_in_freeze(const QualifiedName &table, const std::vector<std::string> &columns,
                           copybin::StreamFormat format) {
  return fmt::format("COPY {}{} FROM STDIN (FORMAT {}, FREEZE)", table, copy_columns(columns),
                     format == copybin::StreamFormat::Binary ? "binary" : "text");
}

std::string truncate(const QualifiedName &table) { return fmt::format("TRUNCATE ONLY {}", table); }

const char *truncate_triggers() {
  return "SELECT n.nspname, c.relname, t.tgname, t.tgenabled::text FROM pg_catalog.pg_trigger t"
         " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r"
         " WHERE NOT t.tgisinternal AND t.tgenabled <> 'D' AND (t.tgtype & 32) <> 0 ORDER BY 1, 2, 3";
}

std::string truncate_tables(const std::vector<QualifiedName> &tables) {
  return fmt::format("TRUNCATE ONLY {}", fmt::join(tables, ", "));
}

std::string delete_all(const QualifiedName &table) { return fmt::format("DELETE FROM ONLY {}", table); }
std::string drop_table(const QualifiedName &table) { return fmt::format("DROP TABLE IF EXISTS {}", table); }

}  // namespace pgcutover::sql
