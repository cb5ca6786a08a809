#include "pgcutover/schema/schema.hpp"

#include <libpq-fe.h>

#include <fstream>
#include <memory>
#include <set>

#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/schema_support.hpp"
#include "pgcutover/schema/tools.hpp"
#include "child_process.hpp"

#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/subprocess.hpp"

namespace pgcutover::schema {

namespace detail {

ChildConn child_conn(const std::string &conninfo) {
  char *err = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption *)> opts(PQconninfoParse(conninfo.c_str(), &err),
                                                                         PQconninfoFree);
  if (err) PQfreemem(err);
  if (!opts) throw_usage("the connection string cannot be parsed");
  ChildConn c;
  for (PQconninfoOption *o = opts.get(); o->keyword; ++o) {
    if (!o->val) continue;
    std::string key = o->keyword, val = o->val;
    if (key == "password") {
      c.env.emplace_back("PGPASSWORD", val);
      continue;
    }
    std::string quoted = "'";
    for (char ch : val) {
      if (ch == '\'' || ch == '\\') quoted += '\\';
      quoted += ch;
    }
    c.conninfo += (c.conninfo.empty() ? "" : " ") + key + "=" + quoted + "'";
  }
  c.display = pg::display_name(pg::parse_conninfo(conninfo));
  return c;
}

void run_checked(const std::vector<std::string> &argv, const std::vector<std::pair<std::string, std::string>> &env,
                 const std::string &what, const std::string &hint, util::ChildSlot *slot) {
  log::debug("running {}", argv[0]);
  util::ProcessResult r = slot ? util::run_process(argv, env, *slot) : util::run_process(argv, env);
  if (slot && slot->stopped()) throw Error(ErrorKind::Cancelled, what + " was stopped: the run is stopping");
  if (r.exit_code != 0) {
    std::string err = r.err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    for (const auto &[k, v] : env)
      if (k == "PGPASSWORD")
        for (size_t p = err.find(v); !v.empty() && p != std::string::npos; p = err.find(v)) err.replace(p, v.size(), "********");
    throw Error(ErrorKind::Permanent, what + " failed (exit " + std::to_string(r.exit_code) + "): " + err, hint);
  }
}

}  // namespace detail

using detail::child_conn;
using detail::ChildConn;
using detail::run_checked;

std::filesystem::path dump_schema(const std::string &source_conninfo, const pg::SnapshotInfo &snapshot,
                                  const std::optional<std::vector<sql::QualifiedName>> &tables,
                                  const std::filesystem::path &dir, const SchemaOptions &opt) {
  ChildConn src = child_conn(source_conninfo);
  std::filesystem::path out = dir / "schema.dump";
  std::vector<std::string> argv = {find_dump_tools(opt.pg_bin, snapshot.server_version).pg_dump, "--format=custom", "--schema-only", "--encoding=UTF8",
                                   "--snapshot=" + snapshot.id, "--file=" + out.string(), "--dbname=" + src.conninfo};
  if (opt.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-privileges");
  }
  for (const std::string &s : opt.exclude_schemas) argv.push_back("--exclude-schema=" + sql::quote_ident(s));
  if (tables) {
    // A double-quoted pattern part matches literally, so quote_ident gives an
    // exact name match; --strict-names fails if one matches nothing.
    argv.push_back("--strict-names");
    for (const sql::QualifiedName &t : *tables) argv.push_back("--table=" + t.quoted());
  }
  run_checked(argv, src.env, "pg_dump of the schema from the source " + src.display,
              "check that pg_dump is at least as new as the source server (--pg-bin) and can read every table");
  return out;
}

void restore_section(const std::string &target_conninfo, const std::filesystem::path &archive,
                     const std::string &section, int jobs, const SchemaOptions &opt) {
  ChildConn dst = child_conn(target_conninfo);
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--section=" + section,
                                   "--exit-on-error", "--dbname=" + dst.conninfo};
  if (jobs > 1) argv.push_back("--jobs=" + std::to_string(jobs));
  if (opt.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-privileges");
  }
  argv.push_back(archive.string());
  auto env = dst.env;
  if (section == "post-data") env.emplace_back("PGOPTIONS", "-c maintenance_work_mem=" + opt.maintenance_work_mem);
  run_checked(argv, env, "pg_restore --section=" + section + " into the target " + dst.display,
              section == "pre-data"
                  ? "an object the schema needs may already exist on the target or a role may be missing (try --no-owner)"
                  : "the data is copied; fix the cause and create the missing indexes/constraints, or rerun into an empty database");
}

Support missing_support(pg::Connection &src, pg::Connection &dst, const std::vector<sql::QualifiedName> &tables) {
  Support need;
  std::vector<std::string> schemas, names;
  for (const sql::QualifiedName &t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  pg::Result used = src.query(sql::schema_support::types_used(),
                              {sql::array_literal(schemas), sql::array_literal(names)});
  std::vector<std::string> type_schemas, type_names;
  for (int i = 0; i < used.rows(); ++i) {
    type_schemas.emplace_back(used.get(i, 0));
    type_names.emplace_back(used.get(i, 1));
  }
  if (!type_schemas.empty()) {
    pg::Result missing = dst.query(sql::schema_support::types_missing(),
                                   {sql::array_literal(type_schemas), sql::array_literal(type_names)});
    for (int i = 0; i < missing.rows(); ++i)
      need.types.push_back({std::string(missing.get(i, 0)), std::string(missing.get(i, 1))});
  }
  std::vector<std::string> wanted = schemas;
  for (const sql::QualifiedName &t : need.types) wanted.push_back(t.schema);
  pg::Result ms = dst.query(sql::schema_support::schemas_missing(), {sql::array_literal(wanted)});
  for (int i = 0; i < ms.rows(); ++i) need.schemas.emplace_back(ms.get(i, 0));
  return need;
}

void restore_support(const std::string &target_conninfo, const std::filesystem::path &archive, const Support &need,
                     const SchemaOptions &opt) {
  std::filesystem::path toc = archive.parent_path() / "support.list";
  std::filesystem::path use = archive.parent_path() / "support.use";
  run_checked({util::find_pg_program("pg_restore", opt.pg_bin), "--list", "--file=" + toc.string(), archive.string()},
              {}, "pg_restore --list of the schema archive", "check pg_restore (--pg-bin)");
  // TOC lines: "<id>; <catalog oid> <oid> <DESC> <schema> <tag> <owner>".
  std::set<std::string> wanted;
  for (const std::string &s : need.schemas) wanted.insert(" SCHEMA - " + s + " ");
  for (const sql::QualifiedName &t : need.types) {
    wanted.insert(" TYPE " + t.schema + " " + t.name + " ");
    wanted.insert(" DOMAIN " + t.schema + " " + t.name + " ");
  }
  std::ifstream in(toc);
  std::ofstream out(use);
  std::string line;
  int kept = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == ';') continue;
    std::string padded = line + " ";
    for (const std::string &w : wanted)
      if (padded.find(w) != std::string::npos) {
        out << line << "\n";
        ++kept;
        break;
      }
  }
  out.close();
  if (kept == 0) return;
  log::info("creating {} schema(s) and {} type(s) the tables need on the target", need.schemas.size(), need.types.size());
  ChildConn dst = child_conn(target_conninfo);
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--use-list=" + use.string(),
                                   "--exit-on-error", "--dbname=" + dst.conninfo};
  if (opt.no_owner) {
    argv.push_back("--no-owner");
    argv.push_back("--no-privileges");
  }
  argv.push_back(archive.string());
  run_checked(argv, dst.env, "pg_restore of the schemas and types the tables need into the target " + dst.display,
              "a role may be missing on the target (try --no-owner)");
}

}  // namespace pgcutover::schema
