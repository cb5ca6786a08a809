#pragma once
// Connection strings: validate, and show them without secrets.
//
// A conninfo string or URI is handed to libpq as is (PG* variables, service
// files and .pgpass apply). What users see is display_name(): host:port/db
// user=..., never the password. redact() scrubs a password that a message might
// echo back (libpq quotes parts of a malformed conninfo in its errors).
#include <string>
#include <utility>
#include <vector>

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

// A usage error (exit 2) naming the option and the keyword, before anything
// connects: a string libpq cannot parse, an unknown keyword, a port or a
// number-valued setting that is not a number, a host given empty. Values
// are never echoed, except a port's.
void check_conninfo(const std::string &conninfo, const std::string &option);

// "host:port/dbname user=name"; fields libpq would default are shown as such.
std::string display_name(const ConninfoView &view);

// Replaces every occurrence of the password in text with "********".
std::string redact(std::string text, const ConninfoView &view);

// What pgcutover adds to a connection when the conninfo (or PGCONNECT_TIMEOUT)
// does not say: a connect timeout, so a peer that accepts TCP and never
// answers cannot hang a run, and TCP keepalives, so a peer that vanished
// (the snapshot holder's server behind a dead link) is noticed within about a
// minute instead of the kernel's two hours. Nothing is added when a service
// file may set them (service= or PGSERVICE), since these would override it.
// Keyword/value pairs, in libpq's names.
std::vector<std::pair<std::string, std::string>> connect_defaults(const std::string &conninfo);
inline constexpr int DEFAULT_CONNECT_TIMEOUT_S = 10;

// The SQLSTATE in a libpq error message built with PQERRORS_VERBOSE
// ("...FATAL:  28P01: password authentication failed..."; the last one when
// several hosts were tried), "" if none: connect-time failures reach the
// client only as message text, and the code is the one part of it that does
// not depend on the server's language.
std::string sqlstate_of_verbose_message(const std::string &message);
// The same message as the default verbosity shows it: codes and LOCATION lines removed.
std::string without_verbose_fields(const std::string &message);

}  // namespace pgcutover::pg
