#pragma once
// Connection strings: validate, and show them without secrets.
//
// A conninfo string or URI is handed to libpq as is (PG* variables, service
// files and .pgpass apply). What users see is display_name(): host:port/db
// user=..., never the password. redact() scrubs a password that a message might
// echo back (libpq quotes parts of a malformed conninfo in its errors).
#include <string>

namespace pgcutover::pg {

struct ConninfoView {
  std::string host;      // as libpq would use it after defaults ("" = default socket)
  std::string port;
  std::string dbname;
  std::string user;
  std::string password;  // kept only to redact it; never printed
};

// Parses a conninfo string or URI; throws Error(Usage) naming what is wrong
// (without echoing the string) when libpq cannot parse it.
ConninfoView parse_conninfo(const std::string &conninfo);

// "host:port/dbname user=name"; fields libpq would default are shown as such.
std::string display_name(const ConninfoView &view);

// Replaces every occurrence of the password in text with "********".
std::string redact(std::string text, const ConninfoView &view);

}  // namespace pgcutover::pg
