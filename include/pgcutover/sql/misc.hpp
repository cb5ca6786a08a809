#pragma once
// Small helpers of the commands.
#include <string>

#include "pgcutover/sql/ident.hpp"

namespace pgcutover::sql::misc {
// $1 a quoted, qualified name -> bool. Kept for callers not yet switched to
// sql::catalog::table_exists() (schema and name as two raw parameters).
std::string table_exists();
std::string minus_ms();          // $1 timestamptz text, $2 milliseconds -> ISO 8601 UTC text
std::string xid_age();           // $1 txid (64-bit) -> age of its xid
// $1 oid[] -> the oids among them whose storage changed after the snapshot
// the session reads in: pg_class as of the snapshot names one file, the
// relation cache (always current) another or none (TRUNCATE, a rewriting
// ALTER TABLE, DROP).
const char *rewritten_since_snapshot();
std::string analyze(const QualifiedName &table);
std::string reset_search_path();
// A transaction with an xid, committed: with synchronous_commit = on its
// COMMIT waits for the WAL flush of everything committed before it.
std::string durable_commit();
// Whether default_toast_compression accepts lz4 (built --with-lz4, 14+): one boolean.
std::string lz4_available();
std::string begin_read_only();  // a timed query runs inside, then rolls back
std::string rollback();
}  // namespace pgcutover::sql::misc
