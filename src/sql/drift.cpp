// Statements of sync/drift_apply (see drift.hpp).
#include "pgcutover/sql/drift.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::drift {

namespace {
// Schemas that are never the application's.
constexpr const char *USER_SCHEMA =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
    "AND n.nspname NOT LIKE 'pg\\_temp%' AND n.nspname <> ALL ($1::text[])";
// The table (alias c) is not a member of an extension.
constexpr const char *NOT_EXTENSION_TABLE =
    "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass"
    " AND d.objid = c.oid AND d.deptype = 'e')";
}  // namespace

const char *partition_shape() {
  return "SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid),"
         " CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END,"
         " pg_catalog.pg_get_partition_constraintdef(c.oid), c.relpersistence = 'u', pn.nspname, p.relname"
         " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid"
         " JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"
         " WHERE n.nspname = $1 AND c.relname = $2 AND c.relispartition";
}

const char *default_partition() {
  return "SELECT n.nspname, c.relname FROM pg_catalog.pg_inherits i"
         " JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"
         " WHERE pn.nspname = $1 AND p.relname = $2 AND c.relispartition"
         " AND pg_catalog.pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT'";
}

const char *partition_bounds() {
  return "SELECT n.nspname, c.relname, pg_catalog.pg_get_expr(c.relpartbound, c.oid),"
         " coalesce(pg_catalog.pg_get_partition_constraintdef(c.oid), ''), pn.nspname, p.relname"
         " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN pg_catalog.pg_inherits i ON i.inhrelid = c.oid"
         " JOIN pg_catalog.pg_class p ON p.oid = i.inhparent JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"
         " WHERE c.relispartition AND n.nspname <> ALL ($1::text[]) ORDER BY 1, 2";
}

std::string detach_partition(const QualifiedName &parent, const QualifiedName &partition) {
  return fmt::format("ALTER TABLE {} DETACH PARTITION {}", parent.quoted(), partition.quoted());
}

std::string attach_partition(const QualifiedName &parent, const QualifiedName &partition, const std::string &bound) {
  return fmt::format("ALTER TABLE {} ATTACH PARTITION {} {}", parent.quoted(), partition.quoted(), bound);
}

std::string delete_outside(const QualifiedName &table, const std::string &constraint) {
  return fmt::format("DELETE FROM {} WHERE ({}) IS FALSE", table.quoted(), constraint);
}

const char *domain_defaults() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, t.typname, coalesce(t.typdefault, '') FROM pg_catalog.pg_type t"
      " JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND {}"
      " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::regclass"
      " AND d.objid = t.oid AND d.deptype = 'e') ORDER BY 1, 2",
      USER_SCHEMA);
  return q.c_str();
}

const char *domain_constraints() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, t.typname, k.conname, pg_catalog.pg_get_constraintdef(k.oid), k.convalidated"
      " FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_type t ON t.oid = k.contypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
      " WHERE k.contype = 'c' AND {}"
      " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::regclass"
      " AND d.objid = t.oid AND d.deptype = 'e') ORDER BY 1, 2, 3",
      USER_SCHEMA);
  return q.c_str();
}

const char *relation_comments() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, c.relname, coalesce(a.attname, ''), d.description FROM pg_catalog.pg_description d"
      " JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0"
      " WHERE c.relkind IN ('r', 'p') AND {} AND {} ORDER BY 1, 2, 3",
      USER_SCHEMA, NOT_EXTENSION_TABLE);
  return q.c_str();
}

std::string domain_default(const QualifiedName &domain, const std::string &default_text) {
  if (default_text.empty()) return fmt::format("ALTER DOMAIN {} DROP DEFAULT", domain.quoted());
  return fmt::format("ALTER DOMAIN {} SET DEFAULT {}", domain.quoted(), default_text);
}

std::string domain_validate(const QualifiedName &domain, const std::string &name) {
  return fmt::format("ALTER DOMAIN {} VALIDATE CONSTRAINT {}", domain.quoted(), quote_ident(name));
}

std::string rename_constraint(const QualifiedName &table, const std::string &from, const std::string &to) {
  return fmt::format("ALTER TABLE {} RENAME CONSTRAINT {} TO {}", table.quoted(), quote_ident(from), quote_ident(to));
}

std::string rename_index(const std::string &schema, const std::string &from, const std::string &to) {
  return fmt::format("ALTER INDEX {}.{} RENAME TO {}", quote_ident(schema), quote_ident(from), quote_ident(to));
}

std::string rename_enum_label(const QualifiedName &type, const std::string &from, const std::string &to) {
  return fmt::format("ALTER TYPE {} RENAME VALUE {} TO {}", type.quoted(), quote_literal(from), quote_literal(to));
}

std::string comment_on(const QualifiedName &relation, const std::string &column, const std::string &comment) {
  std::string what = column.empty() ? "TABLE " + relation.quoted() : "COLUMN " + relation.quoted() + "." + quote_ident(column);
  return fmt::format("COMMENT ON {} IS {}", what, comment.empty() ? std::string("NULL") : quote_literal(comment));
}

const char *relation_grants() {
  return "SELECT pg_catalog.pg_get_userbyid(c.relowner),"
         " CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable"
         " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " LEFT JOIN LATERAL pg_catalog.aclexplode(c.relacl) a ON a.grantee <> c.relowner"
         " WHERE n.nspname = $1 AND c.relname = $2";
}

const char *comments_of() {
  return "SELECT coalesce(a.attname, ''), d.description FROM pg_catalog.pg_description d"
         " JOIN pg_catalog.pg_class c ON d.classoid = 'pg_catalog.pg_class'::regclass AND d.objoid = c.oid"
         " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0"
         " WHERE n.nspname = $1 AND c.relname = $2";
}

std::string set_owner(const QualifiedName &table, const std::string &role) {
  return fmt::format("ALTER TABLE {} OWNER TO {}", table.quoted(), quote_ident(role));
}

std::string grant_on(const QualifiedName &table, const std::string &privilege, const std::string &grantee, bool grantable) {
  return fmt::format("GRANT {} ON TABLE {} TO {}{}", privilege, table.quoted(),
                     grantee.empty() ? std::string("PUBLIC") : quote_ident(grantee), grantable ? " WITH GRANT OPTION" : "");
}

const char *enum_labels() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, t.typname, e.enumlabel FROM pg_catalog.pg_enum e"
      " JOIN pg_catalog.pg_type t ON t.oid = e.enumtypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
      " WHERE {} AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::regclass"
      " AND d.objid = t.oid AND d.deptype = 'e')"
      " ORDER BY n.nspname, t.typname, e.enumsortorder",
      USER_SCHEMA);
  return q.c_str();
}

const char *plain_indexes() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, c.relname, ic.relname, pg_catalog.pg_get_indexdef(x.indexrelid)"
      " FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid"
      " JOIN pg_catalog.pg_class c ON c.oid = x.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE {} AND c.relkind IN ('r', 'p')"
      " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))"
      " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhrelid = x.indexrelid) AND {}"
      " ORDER BY 1, 2, 3",
      USER_SCHEMA, NOT_EXTENSION_TABLE);
  return q.c_str();
}

const char *local_constraints() {
  static const std::string q = fmt::format(
      "SELECT n.nspname, c.relname, k.conname, k.contype::text, pg_catalog.pg_get_constraintdef(k.oid)"
      " FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_class c ON c.oid = k.conrelid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE {} AND c.relkind IN ('r', 'p') AND k.contype IN ('p', 'u', 'x', 'c', 'f') AND k.conislocal AND {}"
      " ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, 1, 2, 3",
      USER_SCHEMA, NOT_EXTENSION_TABLE);
  return q.c_str();
}

std::string create_partition(const QualifiedName &table, const QualifiedName &parent, const std::string &bound,
                             const std::string &partition_key, bool unlogged) {
  std::string out = fmt::format("CREATE {}TABLE {} PARTITION OF {} {}", unlogged ? "UNLOGGED " : "", table.quoted(),
                                parent.quoted(), bound);
  if (!partition_key.empty()) out += " PARTITION BY " + partition_key;
  return out;
}

std::string delete_where(const QualifiedName &table, const std::string &predicate) {
  return fmt::format("DELETE FROM {} WHERE {}", table.quoted(), predicate);
}

std::string add_enum_label(const QualifiedName &type, const std::string &label, const std::string &anchor, bool before) {
  std::string out = fmt::format("ALTER TYPE {} ADD VALUE IF NOT EXISTS {}", type.quoted(), quote_literal(label));
  if (!anchor.empty()) out += fmt::format(" {} {}", before ? "BEFORE" : "AFTER", quote_literal(anchor));
  return out;
}

std::string add_bare_column(const QualifiedName &table, const std::string &column, const std::string &type) {
  return fmt::format("ALTER TABLE {} ADD COLUMN {} {}", table.quoted(), quote_ident(column), type);
}

std::string set_default(const QualifiedName &table, const std::string &column, const std::string &default_expr) {
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {}", table.quoted(), quote_ident(column), default_expr);
}

std::string drop_default(const QualifiedName &table, const std::string &column) {
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT", table.quoted(), quote_ident(column));
}

std::string set_not_null(const QualifiedName &table, const std::string &column) {
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} SET NOT NULL", table.quoted(), quote_ident(column));
}

std::string drop_not_null(const QualifiedName &table, const std::string &column) {
  return fmt::format("ALTER TABLE {} ALTER COLUMN {} DROP NOT NULL", table.quoted(), quote_ident(column));
}

std::string create_index(const std::string &indexdef) {
  std::string out = indexdef;
  size_t at = out.find(" ON ONLY ");
  if (at != std::string::npos) out.replace(at, 9, " ON ");
  return out;
}

std::string add_constraint(const QualifiedName &table, const std::string &name, const std::string &definition) {
  return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}", table.quoted(), quote_ident(name), definition);
}

}  // namespace pgcutover::sql::drift
