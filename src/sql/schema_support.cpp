// Statements of schema/ (see schema_support.hpp).
#include "pgcutover/sql/schema_support.hpp"

#include <fmt/format.h>

#include <map>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::schema_support {

const char *post_data_tables() {
  return "SELECT u.id, 'index', tn.nspname, t.relname, i.relname, NULL, NULL"
         " FROM unnest($1::int[], $2::oid[], $3::oid[]) AS u(id, cat, obj)"
         " JOIN pg_catalog.pg_class i ON u.cat = 'pg_catalog.pg_class'::pg_catalog.regclass AND i.oid = u.obj"
         " AND i.relkind = 'i'"
         " JOIN pg_catalog.pg_index x ON x.indexrelid = i.oid"
         " JOIN pg_catalog.pg_class t ON t.oid = x.indrelid AND t.relkind = 'r'"
         " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace"
         " UNION ALL"
         " SELECT u.id, CASE k.contype WHEN 'f' THEN 'foreign key' ELSE 'constraint' END, tn.nspname, t.relname,"
         " k.conname, rn.nspname, r.relname"
         " FROM unnest($1::int[], $2::oid[], $3::oid[]) AS u(id, cat, obj)"
         " JOIN pg_catalog.pg_constraint k ON u.cat = 'pg_catalog.pg_constraint'::pg_catalog.regclass AND k.oid = u.obj"
         " AND k.contype IN ('p', 'u', 'x', 'f')"
         " JOIN pg_catalog.pg_class t ON t.oid = k.conrelid AND t.relkind = 'r'"
         " JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace"
         " LEFT JOIN pg_catalog.pg_class r ON r.oid = k.confrelid"
         " LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace"
         " WHERE k.contype <> 'f' OR r.relkind = 'r'"
         " ORDER BY 1";
}

const char *catalog_names() {
  return "SELECT c.oid, c.relname FROM pg_catalog.pg_class c WHERE c.oid = ANY ($1::oid[])"
         " AND c.relnamespace = 'pg_catalog'::pg_catalog.regnamespace";
}

std::string catalog_name_column(const std::string &catalog) {
  static const std::map<std::string, std::string> columns = {
      {"pg_class", "relname"},          {"pg_type", "typname"},           {"pg_proc", "proname"},
      {"pg_namespace", "nspname"},      {"pg_constraint", "conname"},     {"pg_trigger", "tgname"},
      {"pg_rewrite", "rulename"},       {"pg_policy", "polname"},         {"pg_collation", "collname"},
      {"pg_extension", "extname"},      {"pg_language", "lanname"},       {"pg_operator", "oprname"},
      {"pg_opclass", "opcname"},        {"pg_opfamily", "opfname"},       {"pg_conversion", "conname"},
      {"pg_ts_config", "cfgname"},      {"pg_ts_dict", "dictname"},       {"pg_ts_parser", "prsname"},
      {"pg_ts_template", "tmplname"},   {"pg_foreign_data_wrapper", "fdwname"},
      {"pg_foreign_server", "srvname"}, {"pg_event_trigger", "evtname"},  {"pg_publication", "pubname"},
      {"pg_statistic_ext", "stxname"},  {"pg_am", "amname"},              {"pg_subscription", "subname"}};
  auto it = columns.find(catalog);
  return it == columns.end() ? "" : it->second;
}

std::string identify_objects(const std::string &catalog, u32 catalog_oid, const std::string &name_column) {
  return fmt::format("SELECT o.oid, i.type, i.identity, {} FROM pg_catalog.{} o"
                     " CROSS JOIN LATERAL pg_catalog.pg_identify_object({}, o.oid, 0) i WHERE o.oid = ANY ($1::oid[])",
                     name_column.empty() ? std::string("''") : "o." + quote_ident(name_column) + "::text",
                     quote_ident(catalog), catalog_oid);
}

std::string identities_named(const std::string &catalog, u32 catalog_oid, const std::string &name_column) {
  std::string sql = fmt::format("SELECT i.identity FROM pg_catalog.{} o"
                                " CROSS JOIN LATERAL pg_catalog.pg_identify_object({}, o.oid, 0) i",
                                quote_ident(catalog), catalog_oid);
  if (!name_column.empty()) sql += " WHERE o." + quote_ident(name_column) + " = ANY ($1::name[])";
  else sql += " WHERE $1::name[] IS NOT NULL";
  return sql;
}

const char *object_relations() {
  return "SELECT u.cat, u.obj, coalesce(r.oid, 0), rn.nspname, r.relname, own.relkind::text"
         " FROM unnest($1::oid[], $2::oid[]) AS u(cat, obj)"
         " LEFT JOIN pg_catalog.pg_class own ON u.cat = 'pg_catalog.pg_class'::pg_catalog.regclass AND own.oid = u.obj"
         " LEFT JOIN LATERAL (SELECT CASE u.cat"
         "  WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN CASE"
         "    WHEN own.relkind IN ('i', 'I') THEN (SELECT x.indrelid FROM pg_catalog.pg_index x WHERE x.indexrelid = own.oid)"
         "    WHEN own.relkind = 'S' THEN (SELECT d.refobjid FROM pg_catalog.pg_depend d"
         "      WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = own.oid"
         "      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i') LIMIT 1)"
         "    ELSE own.oid END"
         "  WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass THEN"
         "    (SELECT k.conrelid FROM pg_catalog.pg_constraint k WHERE k.oid = u.obj)"
         "  WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
         "    (SELECT t.tgrelid FROM pg_catalog.pg_trigger t WHERE t.oid = u.obj)"
         "  WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
         "    (SELECT w.ev_class FROM pg_catalog.pg_rewrite w WHERE w.oid = u.obj)"
         "  WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
         "    (SELECT p.polrelid FROM pg_catalog.pg_policy p WHERE p.oid = u.obj)"
         "  WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass THEN"
         "    (SELECT a.adrelid FROM pg_catalog.pg_attrdef a WHERE a.oid = u.obj)"
         "  WHEN 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass THEN"
         "    (SELECT s.stxrelid FROM pg_catalog.pg_statistic_ext s WHERE s.oid = u.obj)"
         "  END AS rel) AS o ON true"
         " LEFT JOIN pg_catalog.pg_class r ON r.oid = o.rel"
         " LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace";
}

const char *object_roles() {
  return "SELECT u.cat, u.obj, d.deptype::text, r.rolname FROM unnest($1::oid[], $2::oid[]) AS u(cat, obj)"
         " JOIN pg_catalog.pg_shdepend d ON d.classid = u.cat AND d.objid = u.obj"
         " AND d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
         " AND d.dbid IN (0, (SELECT db.oid FROM pg_catalog.pg_database db WHERE db.datname = pg_catalog.current_database()))"
         " JOIN pg_catalog.pg_roles r ON r.oid = d.refobjid";
}

const char *role_names() { return "SELECT r.rolname FROM pg_catalog.pg_roles r"; }

const char *attached() {
  return "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i"
         " WHERE (i.inhparent = pg_catalog.to_regclass($1) AND i.inhrelid = pg_catalog.to_regclass($2))"
         " OR (i.inhparent = pg_catalog.to_regclass($2) AND i.inhrelid = pg_catalog.to_regclass($1)))";
}

std::string unreadable_tables() {
  return "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
         " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " WHERE c.relkind IN ('r', 'p', 'm', 'f')"
         " AND n.nspname <> ALL ($1::text[]) AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
         " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
         " AND NOT pg_catalog.has_table_privilege(c.oid, 'SELECT')"
         " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
         " AND d.objid = c.oid AND d.deptype = 'e')"
         " ORDER BY 1, 2";
}

}  // namespace pgcutover::sql::schema_support
