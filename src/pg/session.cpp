// Session settings (see session.hpp).
#include "pgcutover/pg/session.hpp"

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/misc.hpp"

namespace pgcutover::pg {

std::string session_setup(const SessionSettings &settings) {
  std::string setup =
      "SET client_encoding = 'UTF8'; SET standard_conforming_strings = on; "
      "SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
      "SET TimeZone = 'UTC'; SET xmloption = content; SET bytea_output = 'hex'; "
      "SET lc_monetary = 'C'; SET search_path = ''; SET row_security = off; "
      "SET idle_in_transaction_session_timeout = 0; SET default_transaction_isolation = 'read committed'; ";
  setup += "SET lock_timeout = " + std::to_string(settings.lock_timeout_ms) + "; ";
  setup += "SET statement_timeout = " + std::to_string(settings.statement_timeout_ms) + "; ";
  if (settings.replica_writes) setup += replica_setup() + "; ";
  if (settings.read_only) setup += "SET default_transaction_read_only = on; ";
  if (settings.async_commit) setup += "SET synchronous_commit = off; ";
  if (!settings.toast_compression.empty())
    setup += "SET default_toast_compression = '" + settings.toast_compression + "'; ";
  return setup;
}

std::string replica_setup() { return "SET session_replication_role = replica"; }

std::string reader_setup() { return "SET enable_seqscan = off"; }

void pin_reader(Connection &conn) { conn.exec(reader_setup()); }

void make_durable(Connection &conn) {
  conn.exec("SET synchronous_commit = on");
  conn.exec(sql::misc::durable_commit());
  if (conn.settings().async_commit) conn.exec("SET synchronous_commit = off");
}

}  // namespace pgcutover::pg
