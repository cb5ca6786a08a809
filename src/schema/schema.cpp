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
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/util/cancel.hpp"
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
  // The children's sessions are the tool's: the lock watcher reports their
  // waits, finish and the look-back treat them as pgcutover's own.
  c.env.emplace_back("PGAPPNAME", "pgcutover");
  return c;
}

std::string restore_options(const SchemaOptions &opt, const std::string &extra) {
  std::string out = "-c maintenance_work_mem=" + opt.maintenance_work_mem;
  if (opt.lock_timeout_ms > 0) out += " -c lock_timeout=" + std::to_string(opt.lock_timeout_ms);
  if (opt.async_commit) out += " -c synchronous_commit=off";
  if (!extra.empty()) out += " " + extra;
  return out;
}

void run_checked(const std::vector<std::string> &argv, const std::vector<std::pair<std::string, std::string>> &env,
                 const std::string &what, const std::string &hint, util::ChildSlot *slot) {
  log::debug("running {}", argv[0]);
  util::ProcessResult r = slot ? util::run_process(argv, env, *slot) : util::run_process(argv, env);
  if (slot && slot->stopped()) throw Error(ErrorKind::Cancelled, what + " was stopped: the run is stopping");
  if (cancel::requested())
    throw Error(ErrorKind::Cancelled, what + " was stopped with the run (interrupted)",
                "rerun the same command to finish: what was built is kept, the rest is built then");
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
                                  const std::filesystem::path &dir, const SchemaOptions &opt,
                                  const std::vector<sql::QualifiedName> &exclude_tables) {
  ChildConn src = child_conn(source_conninfo);
  std::filesystem::path out = dir / "schema.dump";
  std::vector<std::string> argv = {find_dump_tools(opt.pg_bin, snapshot.server_version).pg_dump, "--format=custom", "--schema-only", "--encoding=UTF8",
                                   "--snapshot=" + snapshot.id, "--file=" + out.string(), "--dbname=" + src.conninfo};
  // Owners and privileges are always dumped; pg_restore leaves them out on request.
  for (const std::string &s : opt.exclude_schemas) argv.push_back("--exclude-schema=" + sql::quote_ident(s));
  if (tables) {
    // A double-quoted pattern part matches literally, so quote_ident gives an
    // exact name match; --strict-names fails if one matches nothing.
    argv.push_back("--strict-names");
    for (const sql::QualifiedName &t : *tables) argv.push_back("--table=" + t.quoted());
  }
  for (const sql::QualifiedName &t : exclude_tables) argv.push_back("--exclude-table=" + t.quoted());
  try {
    run_checked(argv, src.env, "pg_dump of the schema from the source " + src.display,
                "pg_dump's message above is the cause; nothing was written to the target");
  } catch (Error &e) {
    // pg_dump locks every table it dumps in one transaction: where the
    // source's lock table runs out (it held 10,000 small tables on default
    // settings in perf/many_tables.sh; it depends on the server's spare
    // shared memory) it fails with the server's "out of shared memory".
    std::string_view what = e.what();
    if (what.find("max_locks_per_transaction") != std::string_view::npos ||
        what.find("out of shared memory") != std::string_view::npos)
      e.hint = "pg_dump holds a lock on every table it dumps (" +
               (tables ? std::to_string(tables->size()) + " table(s) here" : std::string("the whole database here")) +
               ") until it ends, and the source's lock table (max_locks_per_transaction x (max_connections + "
               "max_prepared_transactions) slots, for the whole server) is too small for that: raise "
               "max_locks_per_transaction on the source (a restart) above the number of tables divided by "
               "max_connections, or create the tables on the target beforehand (pg_dump --schema-only of a few "
               "schemas at a time, pg_restore --section=pre-data) so the copy needs no dump; nothing was written to "
               "the target";
    throw;
  }
  return out;
}

std::vector<sql::QualifiedName> unreadable_tables(pg::Connection &source, const std::vector<std::string> &exclude_schemas) {
  pg::Result r = source.query(sql::schema_support::unreadable_tables(), {sql::array_literal(exclude_schemas)});
  std::vector<sql::QualifiedName> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1))});
  return out;
}

void restore_section(const std::string &target_conninfo, const std::filesystem::path &archive,
                     const std::string &section, int jobs, const SchemaOptions &opt) {
  ChildConn dst = child_conn(target_conninfo);
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--section=" + section,
                                   "--exit-on-error", "--dbname=" + dst.conninfo};
  if (jobs > 1) argv.push_back("--jobs=" + std::to_string(jobs));
  if (opt.no_owner) argv.push_back("--no-owner");
  if (opt.no_privileges) argv.push_back("--no-privileges");
  argv.push_back(archive.string());
  auto env = dst.env;
  env.emplace_back("PGOPTIONS", detail::restore_options(opt));
  run_checked(argv, env, "pg_restore --section=" + section + " into the target " + dst.display,
              section == "pre-data"
                  ? "pg_restore's message above names the archive entry that failed and the server's cause; fix that "
                    "and rerun the same command"
                  : "the data is in; pg_restore's message above names the item that failed and the server's cause; "
                    "fix that and rerun the same command");
}

}  // namespace pgcutover::schema
