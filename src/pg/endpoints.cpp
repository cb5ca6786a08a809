// The same-database refusal (see endpoints.hpp). Why it matters: with the
// source as its own target, a copy creates the ledger schema in the source,
// upserts every row onto itself and fires the source's triggers.
#include "pgcutover/pg/endpoints.hpp"

#include <optional>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {

struct Identity {
  std::optional<std::string> system_identifier;
  std::string oid;
  std::string name;
};

Identity identity_of(Connection &c) {
  Result r = c.exec(sql::server::database_identity());
  if (r.rows() != 1) throw_internal(c.display_name() + ": the current database is not in pg_database");
  Identity id{std::nullopt, std::string(r.get(0, 1)), std::string(r.get(0, 2))};
  if (r.get_bool(0, 0)) id.system_identifier = std::string(c.exec(sql::server::system_identifier()).get(0, 0));
  return id;
}

// Without the system identifier: a snapshot exported in the source's
// database can be imported only in that same database of that same cluster.
// Both transactions are READ ONLY and end here.
bool snapshot_crosses(Connection &source, Connection &target) {
  Transaction s(source, sql::server::begin_snapshot_read());
  std::string id(source.exec(sql::server::export_snapshot(source.server_version())).get(0, 0));
  Transaction t(target, sql::server::begin_snapshot_read());
  try {
    target.exec(sql::server::set_transaction_snapshot(id));
    return true;
  } catch (const Error &e) {
    if (target.broken()) throw;
    log::debug("the source's snapshot does not exist on the target: {}", e.what());
    return false;
  }
}

}  // namespace

void refuse_same_database(Connection &source, Connection &target) {
  Identity s = identity_of(source);
  Identity t = identity_of(target);
  bool same;
  if (s.system_identifier && t.system_identifier)
    same = *s.system_identifier == *t.system_identifier && s.oid == t.oid && s.name == t.name;
  else
    same = s.name == t.name && s.oid == t.oid && snapshot_crosses(source, target);
  if (!same) return;
  std::string what = "database \"" + s.name + "\" (oid " + s.oid +
                     (s.system_identifier ? ", cluster system identifier " + *s.system_identifier : std::string()) + ")";
  throw_usage("the source and the target are the same " + what + ": " + source.display_name() + " and " +
                  target.display_name() + " reach one database, and pgcutover would write its own source",
              "check --source and --target: host names such as localhost and 127.0.0.1, or two ports of one "
              "server, can reach the same database");
}

void refuse_same_database(const Endpoints &ends, Connection &target) {
  Connection source = Connection::open(ends.source_conninfo, ends.source_settings);
  refuse_same_database(source, target);
}

void refuse_same_database(const Endpoints &ends) {
  Connection target = Connection::open(ends.target_conninfo, ends.target_settings);
  refuse_same_database(ends, target);
}

}  // namespace pgcutover::pg
