// Statements of ledger/write_guard (see write_guard.hpp).
#include "pgcutover/sql/write_guard.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::write_guard {

namespace {
// The named tables and every partitioned or inheritance ancestor of theirs, as oids.
constexpr const char *WITH_TABLES =
    "WITH RECURSIVE named AS ("
    " SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
    " JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r),"
    " tables(oid) AS (SELECT oid FROM named UNION SELECT i.inhparent FROM pg_catalog.pg_inherits i JOIN tables t ON i.inhrelid = t.oid) ";
}  // namespace

const char *firing_triggers() {
  return "SELECT n.nspname, c.relname, t.tgname, t.tgenabled::text FROM pg_catalog.pg_trigger t"
         " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r"
         " WHERE NOT t.tgisinternal AND t.tgenabled IN ('O', 'A') ORDER BY 1, 2, 3";
}

const char *acting_foreign_keys() {
  static const std::string q = std::string(WITH_TABLES) +
      "SELECT n.nspname, c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid), k.convalidated"
      " FROM pg_catalog.pg_constraint k"
      " JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE k.contype = 'f' AND k.conislocal"
      " AND (k.conrelid IN (SELECT oid FROM tables) OR k.confrelid IN (SELECT oid FROM tables)) ORDER BY 1, 2, 3";
  return q.c_str();
}

const char *not_valid_checks() {
  return "SELECT n.nspname, c.relname, k.conname, pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k"
         " JOIN pg_catalog.pg_class c ON c.oid = k.conrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r"
         " WHERE k.contype = 'c' AND NOT k.convalidated AND k.conislocal AND k.coninhcount = 0"
         " AND pg_catalog.pg_has_role(c.relowner, 'USAGE') ORDER BY 1, 2, 3";
}

const char *not_valid_domain_checks() {
  return "WITH RECURSIVE used(oid) AS ("
         "  SELECT a.atttypid FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
         "  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         "  JOIN unnest($1::text[], $2::text[]) AS u(s, r) ON n.nspname = u.s AND c.relname = u.r"
         "  WHERE a.attnum > 0 AND NOT a.attisdropped"
         "  UNION SELECT x FROM used JOIN pg_catalog.pg_type t ON t.oid = used.oid,"
         "  LATERAL (VALUES (t.typbasetype), (t.typelem)) v(x) WHERE v.x <> 0)"
         " SELECT n.nspname, t.typname, k.conname, pg_catalog.pg_get_constraintdef(k.oid) FROM pg_catalog.pg_constraint k"
         " JOIN pg_catalog.pg_type t ON t.oid = k.contypid JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"
         " WHERE k.contype = 'c' AND NOT k.convalidated AND t.oid IN (SELECT oid FROM used)"
         " AND pg_catalog.pg_has_role(t.typowner, 'USAGE') ORDER BY 1, 2, 3";
}

std::string drop_domain_constraint(const QualifiedName &domain, const std::string &name) {
  return fmt::format("ALTER DOMAIN {} DROP CONSTRAINT {}", domain, quote_ident(name));
}

std::string add_domain_constraint(const QualifiedName &domain, const std::string &name, const std::string &definition,
                                  bool validated) {
  return fmt::format("ALTER DOMAIN {} ADD CONSTRAINT {} {}{}", domain, quote_ident(name), definition,
                     validated ? " NOT VALID" : "");
}

const char *not_owned() {
  static const std::string q = std::string(WITH_TABLES) +
      ", involved(oid) AS (SELECT oid FROM named UNION SELECT k.conrelid FROM pg_catalog.pg_constraint k"
      "  WHERE k.contype = 'f' AND (k.conrelid IN (SELECT oid FROM tables) OR k.confrelid IN (SELECT oid FROM tables))"
      "  UNION SELECT k.confrelid FROM pg_catalog.pg_constraint k"
      "  WHERE k.contype = 'f' AND k.conrelid IN (SELECT oid FROM tables))"
      "SELECT n.nspname || '.' || c.relname FROM involved v JOIN pg_catalog.pg_class c ON c.oid = v.oid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE') ORDER BY 1";
  return q.c_str();
}

std::string disable_trigger(const QualifiedName &table, const std::string &trigger) {
  return fmt::format("ALTER TABLE {} DISABLE TRIGGER {}", table, quote_ident(trigger));
}

std::string enable_trigger(const QualifiedName &table, const std::string &trigger, const std::string &tgenabled) {
  return fmt::format("ALTER TABLE {} ENABLE {}TRIGGER {}", table,
                     tgenabled == "A" ? "ALWAYS " : tgenabled == "R" ? "REPLICA " : "", quote_ident(trigger));
}

std::string drop_constraint(const QualifiedName &table, const std::string &name) {
  return fmt::format("ALTER TABLE {} DROP CONSTRAINT {}", table, quote_ident(name));
}

std::string add_constraint_not_valid(const QualifiedName &table, const std::string &name, const std::string &definition,
                                     bool validated) {
  return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}{}", table, quote_ident(name), definition,
                     validated ? " NOT VALID" : "");
}

std::string add_constraint(const QualifiedName &table, const std::string &name, const std::string &definition) {
  return fmt::format("ALTER TABLE {} ADD CONSTRAINT {} {}", table, quote_ident(name), definition);
}

const char *is_partitioned() {
  return "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'p')";
}

std::string validate_constraint(const QualifiedName &table, const std::string &name) {
  return fmt::format("ALTER TABLE {} VALIDATE CONSTRAINT {}", table, quote_ident(name));
}

}  // namespace pgcutover::sql::write_guard
