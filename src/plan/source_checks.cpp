// Source-side privilege checks (see source_checks.hpp).
#include "pgcutover/plan/source_checks.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/source_checks.hpp"

namespace pgcutover::plan {

namespace {

// Why the role cannot read the table whole, "" when it can.
std::string access_problem(const pg::Result &r, int i) {
  const std::string schema(r.get(i, 0)), table = schema + "." + std::string(r.get(i, 1));
  const std::string owner(r.get(i, 7)), user(r.get(i, 8));
  if (!r.get_bool(i, 2))
    return fmt::format("the source role {} has no USAGE on schema {} (GRANT USAGE ON SCHEMA {} TO {})", user, schema,
                       sql::quote_ident(schema), sql::quote_ident(user));
  if (!r.get_bool(i, 3))
    return fmt::format("the source role {} may not read it (GRANT SELECT ON {} TO {})", user,
                       sql::QualifiedName{schema, std::string(r.get(i, 1))}.quoted(), sql::quote_ident(user));
  if (r.get_bool(i, 4)) {
    const bool force = r.get_bool(i, 5);
    const i64 policies = r.get_i64(i, 6);
    return fmt::format(
        "row-level security is enabled ({} {}){} and applies to the source role {}, which {}: the role might not see "
        "every row, and a table is never copied in part; copy as a role with BYPASSRLS (ALTER ROLE {} BYPASSRLS){}",
        policies, policies == 1 ? "policy" : "policies", force ? " with FORCE ROW LEVEL SECURITY" : "", user,
        force && owner == user ? "owns it, but FORCE applies the policies to the owner too"
                               : "is neither its owner nor BYPASSRLS",
        sql::quote_ident(user),
        force ? "" : fmt::format(", or as its owner {}", owner));
  }
  return "";
}

}  // namespace

void refuse_unreadable(pg::Connection &src, std::vector<catalog::TableDef> &tables,
                       const std::vector<std::string> &exclude_schemas, std::vector<Refusal> &refused) {
  if (tables.empty()) return;
  std::vector<std::string> oids;
  for (const catalog::TableDef &t : tables) oids.push_back(std::to_string(t.oid));
  std::map<sql::QualifiedName, std::string> problems;
  pg::Result r = src.query(sql::source_checks::table_access(), {sql::array_literal(oids)});
  for (int i = 0; i < r.rows(); ++i)
    if (std::string p = access_problem(r, i); !p.empty())
      problems[{std::string(r.get(i, 0)), std::string(r.get(i, 1))}] = p;

  // `SELECT last_value, is_called FROM seq` (setting the target's sequences
  // after the data) needs SELECT on each sequence feeding a copied table.
  std::set<sql::QualifiedName> wanted;
  for (const catalog::TableDef &t : tables) wanted.insert(t.name);
  std::vector<catalog::SequenceDef> feeding;
  std::vector<std::string> seq_schemas, seq_names;
  for (catalog::SequenceDef &s : catalog::load_sequences(src, exclude_schemas))
    if (s.feeds_any(wanted)) {
      seq_schemas.push_back(s.name.schema);
      seq_names.push_back(s.name.name);
      feeding.push_back(std::move(s));
    }
  if (!feeding.empty()) {
    pg::Result u = src.query(sql::source_checks::unreadable_sequences(),
                             {sql::array_literal(seq_schemas), sql::array_literal(seq_names)});
    for (int i = 0; i < u.rows(); ++i) {
      const sql::QualifiedName seq{std::string(u.get(i, 0)), std::string(u.get(i, 1))};
      for (const catalog::SequenceDef &s : feeding) {
        if (!(s.name == seq)) continue;
        for (const catalog::FedColumn &f : s.feeds) {
          if (!wanted.count(f.table)) continue;
          std::string &p = problems[f.table];
          p += (p.empty() ? "" : "; ") +
               fmt::format("the source role may not read sequence {} feeding column \"{}\", so its position cannot "
                           "be carried (GRANT SELECT ON SEQUENCE {} TO the role, and USAGE on its schema)",
                           seq.display(), f.column, seq.quoted());
        }
      }
    }
  }
  if (problems.empty()) return;
  std::erase_if(tables, [&](const catalog::TableDef &t) {
    auto it = problems.find(t.name);
    if (it == problems.end()) return false;
    refused.push_back({t.name.display(), it->second});
    return true;
  });
}

}  // namespace pgcutover::plan
