// Statements of schema/matviews and schema/large_objects (see nontable.hpp).
#include "pgcutover/sql/nontable.hpp"

#include <fmt/format.h>

namespace pgcutover::sql::nontable {

const char *populated_matviews() {
  return "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c"
         " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " WHERE c.relkind = 'm' AND c.relispopulated AND n.nspname <> ALL ($1::text[])"
         " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass"
         " AND d.objid = c.oid AND d.deptype = 'e')"
         " ORDER BY 1, 2";
}

// Views and materialized views as a graph through their rewrite rules; a
// materialized view's depth is the longest chain of relations of those kinds
// below it that contains a materialized view.
const char *target_matviews() {
  return "WITH RECURSIVE rel AS ("
         "  SELECT c.oid, c.relkind FROM pg_catalog.pg_class c WHERE c.relkind IN ('m', 'v')),"
         " uses AS ("
         "  SELECT DISTINCT r.ev_class AS rel, d.refobjid AS used FROM pg_catalog.pg_rewrite r"
         "  JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid"
         "   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.ev_class"
         "  JOIN rel u ON u.oid = d.refobjid"
         "  WHERE r.ev_class IN (SELECT oid FROM rel)),"
         " depth AS ("
         "  SELECT rel.oid, 0 AS depth FROM rel"
         "  UNION ALL"
         "  SELECT u.rel, d.depth + CASE WHEN k.relkind = 'm' THEN 1 ELSE 0 END FROM uses u"
         "  JOIN depth d ON d.oid = u.used JOIN rel k ON k.oid = u.used WHERE d.depth < 100)"
         " SELECT n.nspname, c.relname, c.relispopulated,"
         "  EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisunique AND i.indisvalid"
         "   AND i.indpred IS NULL AND NOT (0 = ANY (i.indkey::int2[]))),"
         "  (SELECT max(d.depth) FROM depth d WHERE d.oid = c.oid)"
         " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
         " WHERE c.relkind = 'm' AND n.nspname <> ALL ($1::text[])"
         " ORDER BY 5, 1, 2";
}

std::string refresh_matview(const QualifiedName &name, bool concurrently) {
  return fmt::format("REFRESH MATERIALIZED VIEW {}{}", concurrently ? "CONCURRENTLY " : "", name);
}

const char *large_objects() {
  return "SELECT m.oid, pg_catalog.pg_get_userbyid(m.lomowner),"
         " CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee) END, a.privilege_type,"
         " a.is_grantable"
         " FROM pg_catalog.pg_largeobject_metadata m"
         " LEFT JOIN LATERAL pg_catalog.aclexplode(m.lomacl) a ON a.grantee <> m.lomowner"
         " ORDER BY m.oid";
}

const char *large_object_totals() {
  return "SELECT count(*) FROM pg_catalog.pg_largeobject_metadata";
}

const char *large_object_digests() {
  return "SELECT u.oid, pg_catalog.length(x.b), pg_catalog.md5(x.b) FROM unnest($1::oid[]) AS u(oid)"
         " CROSS JOIN LATERAL (SELECT pg_catalog.lo_get(u.oid) AS b) x";
}

const char *large_object_chunk() {
  return "SELECT pg_catalog.encode(pg_catalog.lo_get($1::oid, $2::bigint, $3::int), 'hex')";
}
const char *large_object_create() { return "SELECT pg_catalog.lo_create($1::oid)"; }
const char *large_object_put() {
  return "SELECT pg_catalog.lo_put($1::oid, $2::bigint, pg_catalog.decode($3, 'hex'))";
}
const char *large_object_unlink() { return "SELECT pg_catalog.lo_unlink($1::oid)"; }

std::string large_object_owner(u32 oid, const std::string &role) {
  return fmt::format("ALTER LARGE OBJECT {} OWNER TO {}", oid, quote_ident(role));
}

std::string large_object_grant(u32 oid, const std::string &privilege, const std::string &grantee, bool grantable) {
  return fmt::format("GRANT {} ON LARGE OBJECT {} TO {}{}", privilege, oid,
                     grantee.empty() ? std::string("PUBLIC") : quote_ident(grantee), grantable ? " WITH GRANT OPTION" : "");
}

}  // namespace pgcutover::sql::nontable
