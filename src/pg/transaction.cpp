#include "pgcutover/pg/transaction.hpp"

#include "pgcutover/sql/server.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

Transaction::Transaction(Connection &conn) : Transaction(conn, sql::server::begin()) {}

Transaction::Transaction(Connection &conn, std::string_view begin_sql) : conn_(conn) { conn_.exec(begin_sql); }

void Transaction::commit() {
  open_ = false;
  conn_.exec(sql::server::commit());
}

Transaction::~Transaction() {
  if (!open_ || conn_.broken()) return;
  try {
    conn_.exec(sql::server::rollback());
  } catch (const Error &e) {
    log::debug("rollback failed: {}", e.what());
    conn_.mark_broken();
  }
}

}  // namespace pgcutover::pg
