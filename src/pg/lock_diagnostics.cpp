// Lock diagnostics (see lock_diagnostics.hpp).
#include "pgcutover/pg/lock_diagnostics.hpp"

#include <fmt/format.h>

#include <optional>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/server.hpp"

namespace pgcutover::pg {

void explain_lock_timeout(Error &e, const Endpoints &ends, const std::vector<sql::QualifiedName> &tables) {
  if (e.sqlstate != "55P03") return;
  Param schemas, names;  // NULL: any user table
  if (!tables.empty()) {
    std::vector<std::string> s, n;
    for (const sql::QualifiedName &t : tables) {
      s.push_back(t.schema);
      n.push_back(t.name);
    }
    schemas = sql::array_literal(s);
    names = sql::array_literal(n);
  }
  for (auto [conninfo, settings] :
       {std::pair{ends.target_conninfo, ends.target_settings}, std::pair{ends.source_conninfo, ends.source_settings}}) {
    if (conninfo.empty()) continue;
    std::string who;
    try {
      Connection c = Connection::open(conninfo, settings);
      Result r = c.query(sql::server::lock_holders(), {schemas, names});
      for (int i = 0; i < r.rows(); ++i)
        who += (who.empty() ? "" : "; ") + fmt::format("pid {} (user {}, application '{}') holds {} on {}, running: {}",
                                                      r.get(i, 0), r.get(i, 1), r.get(i, 2), r.get(i, 3), r.get(i, 5),
                                                      r.get(i, 4));
    } catch (const Error &) {
    }
    if (!who.empty()) {
      e.hint = "on the " + settings.role + ": " + who +
               ". End those sessions or wait, then rerun (finished ranges are kept); --lock-timeout sets how long to wait";
      return;
    }
  }
}

}  // namespace pgcutover::pg
