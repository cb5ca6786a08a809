// Checks on the target (see target_checks.hpp).
#include "pgcutover/pg/target_checks.hpp"

#include <algorithm>
#include <set>

#include "pgcutover/sql/copy.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/sql/misc.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

void check_target_writable(Connection &dst) {
  Result r = dst.exec(sql::server::writability());
  if (r.get_bool(0, 0))
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is a standby (in recovery) and cannot take writes",
                "point --target at the primary");
  if (r.get(0, 1) == "on")
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is read-only (default_transaction_read_only is on)",
                "point --target at a writable server or turn default_transaction_read_only off for this user");
}

std::string TargetWrites::summary() const {
  std::string aside;
  if (!set_aside.empty())
    aside = "; " + std::to_string(set_aside.size()) +
            " object(s) set aside during the writes and restored after (user triggers disabled, then re-enabled; "
            "foreign keys dropped, then re-created NOT VALID and validated; NOT VALID checks of tables and domains "
            "dropped, then re-created NOT VALID)";
  if (!replica)
    return set_aside.empty() ? "target writes: plain sessions (the target's tables have no user trigger and no foreign key)"
                             : "target writes: plain sessions" + aside;
  std::string s =
      "target writes: session_replication_role = replica (no user trigger fires, no foreign key check or cascade acts)";
  if (!always_triggers.empty()) {
    s += "; ENABLE ALWAYS triggers still fire:";
    for (const std::string &t : always_triggers) s += " " + t + ";";
  }
  return s + aside;
}

void empty_for_reload(Connection &dst, const sql::QualifiedName &table) {
  dst.exec("SAVEPOINT pgcutover_reload");
  try {
    dst.exec(sql::delete_all(table));
  } catch (const Error &e) {
    if (e.sqlstate != "55000") throw;
    dst.exec("ROLLBACK TO SAVEPOINT pgcutover_reload");
    log::debug("{}: DELETE refused ({}): emptied with TRUNCATE", table.display(), e.what());
    dst.exec(sql::truncate(table));
  }
  dst.exec("RELEASE SAVEPOINT pgcutover_reload");
}

TargetWrites probe_target_writes(Connection &dst, const std::vector<sql::QualifiedName> &tables) {
  TargetWrites w;
  w.replica = dst.exec(sql::server::may_set_replication_role(dst.server_version())).get_bool(0, 0);
  Result r = dst.exec(sql::server::tables_acting_on_writes());
  const std::set<sql::QualifiedName> wanted(tables.begin(), tables.end());
  for (int i = 0; i < r.rows(); ++i) {
    sql::QualifiedName name{std::string(r.get(i, 0)), std::string(r.get(i, 1))};
    if (!wanted.empty() && !wanted.count(name)) continue;
    i64 triggers = r.get_i64(i, 2), fks = r.get_i64(i, 4);
    if (!r.get(i, 3).empty()) w.always_triggers.push_back(name.display() + ": " + std::string(r.get(i, 3)));
    if (triggers > 0 || fks > 0)
      w.acting.push_back(name.display() + " (" + std::to_string(triggers) + " user trigger(s), " + std::to_string(fks) +
                         " foreign key(s))");
  }
  if (!w.replica) w.always_triggers.clear();
  return w;
}

void use_replica_writes(Connection &dst, const TargetWrites &w) {
  dst.exec(replica_setup());
  log::info("{}", w.summary());
  if (!w.always_triggers.empty())
    log::warn("ENABLE ALWAYS triggers fire even under session_replication_role = replica:{}", [&] {
      std::string s;
      for (const std::string &t : w.always_triggers) s += " " + t + ";";
      return s;
    }());
}

void refuse_target_writes(Connection &dst, const TargetWrites &w, const std::string &why) {
  std::string list;
  for (const std::string &a : w.acting) list += "\n  " + a;
  throw Error(ErrorKind::Usage,
              "the target role may not set session_replication_role, and " + std::to_string(w.acting.size()) +
                  " target table(s) have user triggers or foreign keys that would fire or act on the rows written" +
                  (why.empty() ? "" : " (" + why + ")") + ":" + list,
              dst.server_version() >= 150000
                  ? "as a superuser, run GRANT SET ON PARAMETER session_replication_role TO <the target role>; "
                    "or run as the owner of these tables"
                  : "run as a superuser (session_replication_role needs one before PostgreSQL 15), "
                    "or as the owner of these tables");
}

TargetWrites prepare_target_writes(Connection &dst, const std::vector<sql::QualifiedName> &tables) {
  TargetWrites w = probe_target_writes(dst, tables);
  if (w.replica)
    use_replica_writes(dst, w);
  else if (!w.acting.empty())
    refuse_target_writes(dst, w, "");
  return w;
}

ToastCompression parse_toast_compression(const std::string &text) {
  if (text == "auto") return ToastCompression::Auto;
  if (text == "lz4") return ToastCompression::Lz4;
  if (text == "pglz") return ToastCompression::Pglz;
  if (text == "server") return ToastCompression::Server;
  throw_usage("unknown --toast-compression '" + text + "'", "use auto, lz4, pglz or server");
}

std::string writer_toast_compression(Connection &dst, ToastCompression want) {
  if (want == ToastCompression::Server) return "";
  bool lz4 = dst.exec(sql::misc::lz4_available()).get_bool(0, 0);
  switch (want) {
    case ToastCompression::Lz4:
      if (!lz4)
        throw Error(ErrorKind::Usage,
                    "--toast-compression lz4: the " + dst.display_name() +
                        " has no lz4 (PostgreSQL 14 or later built --with-lz4 has it)",
                    "use --toast-compression auto or pglz");
      return "lz4";
    case ToastCompression::Pglz:
      return dst.server_version() >= 140000 ? "pglz" : "";  // before 14 pglz is the only one
    default:
      return lz4 ? "lz4" : "";
  }
}

std::string describe_toast_compression(const std::string &chosen) {
  return chosen.empty() ? "the target server's default_toast_compression"
                        : chosen + " for columns without their own compression (writer sessions)";
}

bool same_machine_addresses(const std::string &a, const std::string &b) {
  auto local = [](const std::string &h) { return h.empty() || h.rfind("127.", 0) == 0 || h == "::1"; };
  if (local(a) && local(b)) return true;
  return a == b;
}

bool share_one_machine(Connection &a, Connection &b) {
  return same_machine_addresses(std::string(a.exec(sql::server::server_address()).get(0, 0)),
                                std::string(b.exec(sql::server::server_address()).get(0, 0)));
}

}  // namespace pgcutover::pg
