// The objects behind a schema archive's entries (see objects.hpp).
#include "pgcutover/schema/objects.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <set>

#include <fmt/format.h>

#include "child_process.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/schema_support.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::schema {

namespace fs = std::filesystem;
namespace ss = sql::schema_support;

namespace {

// Entries that are no schema object of their own: data, database-level
// settings. Never restored by a copy.
bool not_an_object(const ArchiveEntry &e) {
  static const std::set<std::string> skip = {"ENCODING",   "STDSTRINGS", "SEARCHPATH",   "DATABASE",
                                             "DATABASE PROPERTIES",       "TABLE DATA",   "SEQUENCE SET",
                                             "BLOB",       "BLOBS",      "BLOB METADATA", "LARGE OBJECT",
                                             "MATERIALIZED VIEW DATA",   "STATISTICS DATA", "TABLESPACE"};
  return e.section == Section::Data || skip.count(e.desc) > 0;
}

std::string oid_list(const std::vector<u32> &v) {
  std::vector<std::string> s;
  for (u32 o : v) s.push_back(std::to_string(o));
  return sql::array_literal(s);
}

// The owner pg_dump printed at the end of the line, when it is a role.
std::string owner_word(const ArchiveEntry &e, const std::set<std::string> &roles) {
  std::string r = e.rest;
  while (!r.empty() && r.back() == ' ') r.pop_back();
  size_t sp = r.rfind(' ');
  std::string w = sp == std::string::npos ? r : r.substr(sp + 1);
  return roles.count(w) ? w : "";
}

void add_example(std::vector<std::string> &v, const std::string &what) {
  if (std::find(v.begin(), v.end(), what) == v.end()) v.push_back(what);
}

}  // namespace

bool idempotent(const ArchiveEntry &e) {
  static const std::set<std::string> same_again = {"COMMENT",      "ACL",          "SECURITY LABEL", "SEQUENCE OWNED BY",
                                                   "INDEX ATTACH", "ROW SECURITY", "DEFAULT ACL"};
  // A view's _RETURN rule that pg_dump splits out (a view over a GROUP BY on
  // a key) is CREATE OR REPLACE VIEW over the placeholder the pre-data made,
  // whose own _RETURN rule would make it look present.
  return same_again.count(e.desc) > 0 || (e.desc == "RULE" && e.rest.find(" _RETURN ") != std::string::npos);
}

const EntryFacts &ArchiveObjects::facts(int id) const {
  static const EntryFacts none;
  auto it = facts_.find(id);
  return it == facts_.end() ? none : it->second;
}

ArchiveObjects ArchiveObjects::read(const Archive &archive, pg::Connection &source) {
  ArchiveObjects out;
  out.archive_ = &archive;
  std::map<u32, std::vector<u32>> by_catalog;  // catalog -> objects
  std::vector<u32> cats, objs;
  for (const ArchiveEntry &e : archive.entries) {
    out.facts_[e.id];
    if (e.catalog == 0 || not_an_object(e)) continue;
    by_catalog[e.catalog].push_back(e.oid);
    cats.push_back(e.catalog);
    objs.push_back(e.oid);
  }
  if (cats.empty()) return out;
  auto entry_of = [&](u32 cat, u32 obj) -> EntryFacts * {
    const ArchiveEntry *e = archive.find_object(cat, obj);
    return e ? &out.facts_[e->id] : nullptr;
  };

  // Identities, one statement per catalog.
  std::vector<u32> catalog_oids;
  for (const auto &[c, _] : by_catalog) catalog_oids.push_back(c);
  pg::Result names = source.query(ss::catalog_names(), {oid_list(catalog_oids)});
  for (int i = 0; i < names.rows(); ++i) {
    u32 cat = static_cast<u32>(names.get_i64(i, 0));
    std::string rel(names.get(i, 1));
    std::string col = ss::catalog_name_column(rel);
    pg::Result r = source.query(ss::identify_objects(rel, cat, col), {oid_list(by_catalog[cat])});
    for (int row = 0; row < r.rows(); ++row)
      if (EntryFacts *f = entry_of(cat, static_cast<u32>(r.get_i64(row, 0)))) {
        f->type = r.get(row, 1);
        f->identity = r.get(row, 2);
        f->name = r.get(row, 3);
      }
  }

  // The relation each object belongs to.
  pg::Result rels = source.query(ss::object_relations(), {oid_list(cats), oid_list(objs)});
  for (int i = 0; i < rels.rows(); ++i)
    if (EntryFacts *f = entry_of(static_cast<u32>(rels.get_i64(i, 0)), static_cast<u32>(rels.get_i64(i, 1)))) {
      f->relation = static_cast<u32>(rels.get_i64(i, 2));
      if (f->relation) f->relation_name = sql::QualifiedName{std::string(rels.get(i, 3)), std::string(rels.get(i, 4))}.display();
      if (!rels.is_null(i, 5) && !rels.get(i, 5).empty()) f->relkind = rels.get(i, 5)[0];
    }

  // Roles: owners, grantees, policies' roles.
  std::set<std::string> roles;
  pg::Result rn = source.exec(ss::role_names());
  for (int i = 0; i < rn.rows(); ++i) roles.emplace(rn.get(i, 0));
  pg::Result rr = source.query(ss::object_roles(), {oid_list(cats), oid_list(objs)});
  for (int i = 0; i < rr.rows(); ++i)
    if (EntryFacts *f = entry_of(static_cast<u32>(rr.get_i64(i, 0)), static_cast<u32>(rr.get_i64(i, 1)))) {
      std::string kind(rr.get(i, 2)), role(rr.get(i, 3));
      if (kind == "o") f->owner = role;
      else if (kind == "a") f->grantees.insert(role);
      else if (kind == "r") f->policy_roles.insert(role);
    }

  // Statement entries take the relation of what they are about; an owner
  // pg_shdepend does not record (the bootstrap superuser's) comes from the line.
  for (const ArchiveEntry &e : archive.entries) {
    EntryFacts &f = out.facts_[e.id];
    if (f.owner.empty() && !not_an_object(e)) f.owner = owner_word(e, roles);
    if (e.catalog != 0) continue;
    for (int d : e.deps) {
      const EntryFacts &df = out.facts_[d];
      if (df.relation) {
        f.relation = df.relation;
        f.relation_name = df.relation_name;
        break;
      }
    }
    if (e.desc == "TABLE ATTACH") f.attach = e.deps;
    if (e.desc == "ACL" && !e.deps.empty()) {
      // The privileges are the object's: its grantees.
      const EntryFacts &of = out.facts_[e.deps.front()];
      f.grantees = of.grantees;
    }
  }
  return out;
}

std::vector<int> ArchiveObjects::all() const {
  std::vector<int> out;
  for (const ArchiveEntry &e : archive_->entries)
    if (!not_an_object(e)) out.push_back(e.id);
  return out;
}

std::vector<int> ArchiveObjects::for_relations(const std::set<u32> &relations) const {
  std::vector<int> own;
  for (const ArchiveEntry &e : archive_->entries) {
    if (not_an_object(e)) continue;
    const EntryFacts &f = facts(e.id);
    if (f.relation && relations.count(f.relation)) own.push_back(e.id);
  }
  std::vector<int> out;
  for (int id : archive_->closure(own))
    if (!not_an_object(*archive_->find(id))) out.push_back(id);
  return out;
}

std::vector<int> ArchiveObjects::for_tables(const std::vector<sql::QualifiedName> &tables) const {
  std::set<std::string> names;
  for (const sql::QualifiedName &t : tables) names.insert(t.display());
  std::set<u32> rels;
  for (const ArchiveEntry &e : archive_->entries) {
    const EntryFacts &f = facts(e.id);
    if (e.catalog != 0 && f.relation == e.oid && names.count(f.relation_name)) rels.insert(f.relation);
  }
  return for_relations(rels);
}

std::vector<int> ArchiveObjects::in_section(const std::vector<int> &ids, Section s) const {
  std::vector<int> out;
  for (int id : ids)
    if (const ArchiveEntry *e = archive_->find(id); e && e->section == s) out.push_back(id);
  return out;
}

std::vector<int> ArchiveObjects::missing_on_target(pg::Connection &target, const std::vector<int> &ids) const {
  // Per catalog: the names to look up, and which entries wait for an answer.
  std::map<u32, std::set<std::string>> names;
  for (int id : ids) {
    const ArchiveEntry *e = archive_->find(id);
    const EntryFacts &f = facts(id);
    if (e && e->catalog != 0 && !f.identity.empty()) names[e->catalog].insert(f.name);
  }
  std::map<u32, std::set<std::string>> present;  // catalog -> identities the target has
  if (!names.empty()) {
    std::vector<u32> cats;
    for (const auto &[c, _] : names) cats.push_back(c);
    pg::Result cn = target.query(ss::catalog_names(), {oid_list(cats)});
    for (int i = 0; i < cn.rows(); ++i) {
      u32 cat = static_cast<u32>(cn.get_i64(i, 0));
      std::string rel(cn.get(i, 1));
      std::vector<std::string> wanted(names[cat].begin(), names[cat].end());
      pg::Result r = target.query(ss::identities_named(rel, cat, ss::catalog_name_column(rel)), {sql::array_literal(wanted)});
      for (int row = 0; row < r.rows(); ++row) present[cat].emplace(r.get(row, 0));
    }
  }
  std::vector<int> out;
  for (int id : ids) {
    const ArchiveEntry *e = archive_->find(id);
    if (!e) continue;
    const EntryFacts &f = facts(id);
    if (idempotent(*e)) {
      out.push_back(id);
      continue;
    }
    if (e->catalog != 0 && !f.identity.empty()) {
      if (!present[e->catalog].count(f.identity)) out.push_back(id);
      continue;
    }
    if (e->desc == "TABLE ATTACH" && f.attach.size() == 2) {
      const EntryFacts &a = facts(f.attach[0]), &b = facts(f.attach[1]);
      if (!a.identity.empty() && !b.identity.empty() &&
          target.query(ss::attached(), {a.identity, b.identity}).get_bool(0, 0))
        continue;
    }
    out.push_back(id);  // idempotent statements, and whatever cannot be looked up: restored
  }
  return out;
}

MissingRoles missing_roles(const ArchiveObjects &objects, const std::vector<int> &ids, pg::Connection &target) {
  std::set<std::string> on_target;
  pg::Result rn = target.exec(ss::role_names());
  for (int i = 0; i < rn.rows(); ++i) on_target.emplace(rn.get(i, 0));
  MissingRoles m;
  for (int id : ids) {
    const ArchiveEntry *e = objects.archive().find(id);
    const EntryFacts &f = objects.facts(id);
    std::string what = f.identity.empty() ? e->describe() : f.type + " " + f.identity;
    if (!f.owner.empty() && !on_target.count(f.owner) && e->catalog != 0) add_example(m.owners[f.owner], what);
    if (e->desc == "ACL" || e->catalog == 0) {
      const EntryFacts *of = e->deps.empty() ? nullptr : &objects.facts(e->deps.front());
      std::string on = of && !of->identity.empty() ? "the GRANTs on " + of->type + " " + of->identity : e->describe();
      for (const std::string &g : f.grantees)
        if (!on_target.count(g)) add_example(m.grantees[g], on);
    }
    for (const std::string &p : f.policy_roles)
      if (!on_target.count(p)) add_example(m.policies[p], what);
  }
  return m;
}

void check_roles(const MissingRoles &missing, const SchemaOptions &opt) {
  auto list = [](const std::map<std::string, std::vector<std::string>> &m, const std::string &verb) {
    std::string out;
    for (const auto &[role, objs] : m) {
      out += "\n  role \"" + role + "\" " + verb + " ";
      for (size_t i = 0; i < objs.size() && i < 3; ++i) out += (i ? ", " : "") + objs[i];
      if (objs.size() > 3) out += " and " + std::to_string(objs.size() - 3) + " more";
    }
    return out;
  };
  std::string msg, fix;
  std::set<std::string> all;
  auto note = [&](const std::map<std::string, std::vector<std::string>> &m) {
    for (const auto &[r, _] : m) all.insert(r);
  };
  if (!opt.no_owner && !missing.owners.empty()) {
    note(missing.owners);
    msg += list(missing.owners, "owns");
    fix += "create the owners on the target, or pass --no-owner (the target role owns what the copy creates; GRANTs are kept)";
  }
  if (!opt.no_privileges && !missing.grantees.empty()) {
    note(missing.grantees);
    msg += list(missing.grantees, "is granted privileges by");
    fix += std::string(fix.empty() ? "" : "; ") +
           "create the grantees on the target, or pass --no-privileges (every GRANT of the copied objects is left out)";
  }
  if (!missing.policies.empty()) {
    note(missing.policies);
    msg += list(missing.policies, "is named by the policies");
    fix += std::string(fix.empty() ? "" : "; ") + "create the roles the policies name on the target";
  }
  if (msg.empty()) return;
  std::string roles;
  for (const std::string &r : all) roles += (roles.empty() ? "" : ", ") + sql::quote_ident(r);
  throw_usage("the target lacks roles the copied objects need (no object or row was written):" + msg,
              fix + " (e.g. CREATE ROLE ... NOLOGIN for " + roles + ")");
}

void write_use_list(const Archive &archive, const std::vector<int> &ids, const fs::path &file) {
  std::set<int> wanted(ids.begin(), ids.end());
  std::ofstream out(file);
  for (const ArchiveEntry &e : archive.entries)
    if (wanted.count(e.id)) out << e.line << "\n";
  if (!out.flush()) throw Error(ErrorKind::Permanent, "cannot write " + file.string(), "check the folder's space and rights");
}

void restore_use_list(const std::string &target_conninfo, const fs::path &archive, const fs::path &list, int jobs,
                      bool single_transaction, const SchemaOptions &opt, const std::string &what) {
  detail::ChildConn dst = detail::child_conn(target_conninfo);
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--use-list=" + list.string(),
                                   "--exit-on-error", "--dbname=" + dst.conninfo};
  if (single_transaction) argv.push_back("--single-transaction");
  else if (jobs > 1) argv.push_back("--jobs=" + std::to_string(jobs));
  if (opt.no_owner) argv.push_back("--no-owner");
  if (opt.no_privileges) argv.push_back("--no-privileges");
  argv.push_back(archive.string());
  auto env = dst.env;
  env.emplace_back("PGOPTIONS", detail::restore_options(opt));
  detail::run_checked(argv, env, "pg_restore of " + what + " into the target " + dst.display,
                      single_transaction ? "nothing of it was created; fix the cause and rerun the same command"
                                         : "fix the cause and rerun the same command (it creates only what is missing)");
}

void restore_entries(const std::string &target_conninfo, const Archive &archive, const std::vector<int> &ids, int jobs,
                     bool single_transaction, const SchemaOptions &opt, const std::string &what) {
  if (ids.empty()) return;
  static std::atomic<int> serial{0};
  fs::path use = archive.path.parent_path() / ("entries-" + std::to_string(getpid()) + "-" + std::to_string(++serial) + ".list");
  write_use_list(archive, ids, use);
  try {
    restore_use_list(target_conninfo, archive.path, use, ids.size() > 1 ? jobs : 1, single_transaction, opt, what);
  } catch (...) {
    fs::remove(use);
    throw;
  }
  fs::remove(use);
}

int restore_entries_in_batches(const std::string &target_conninfo, const Archive &archive, const std::vector<int> &ids,
                               size_t batch, const SchemaOptions &opt, const std::string &what) {
  std::set<int> wanted(ids.begin(), ids.end());
  std::vector<int> ordered;
  for (const ArchiveEntry &e : archive.entries)
    if (wanted.count(e.id)) ordered.push_back(e.id);
  batch = std::max<size_t>(batch, 1);
  int batches = static_cast<int>((ordered.size() + batch - 1) / batch);
  for (int b = 0; b < batches; ++b) {
    std::vector<int> part(ordered.begin() + static_cast<long>(b * batch),
                          ordered.begin() + static_cast<long>(std::min(ordered.size(), (b + 1) * batch)));
    try {
      restore_entries(target_conninfo, archive, part, 1, true, opt, what);
    } catch (Error &e) {
      if (batches > 1)
        e.hint = fmt::format("batch {} of {} ({} entries each, one transaction each) was rolled back; the {} before it "
                             "are in; fix the cause and rerun the same command: it creates what is still missing",
                             b + 1, batches, batch, b);
      throw;
    }
  }
  return batches;
}

}  // namespace pgcutover::schema
