#pragma once
// One exception hierarchy for every failure. Ordinary outcomes ("need more
// bytes", "range already done") are return values, never exceptions.
//
// Context is added once, at the boundary that knows it (the range runner fills
// table and range), and main() alone maps an Error to an exit code.
#include <optional>
#include <stdexcept>
#include <string>

#include "pgcutover/util/types.hpp"

namespace pgcutover {

enum class ErrorKind {
  Usage,        // bad options, refused tables, schema mismatch: fix the command or schema
  Auth,         // SQLSTATE 28xxx
  Unreachable,  // could not connect at all
  Transient,    // connection lost, server restarting, deadlock, serialization failure
  Permanent,    // the server refused the statement and will refuse it again
  DataFormat,   // a COPY stream or spill file that is malformed or does not match
  DiskFull,     // SQLSTATE 53100 or ENOSPC on a spill file
  Cancelled,    // SIGINT / SIGTERM
  Internal,     // a bug
};

const char *to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, std::string hint = {})
      : std::runtime_error(std::move(message)), kind(kind), hint(std::move(hint)) {}

  ErrorKind kind;
  std::string sqlstate;  // "" when not from the server
  std::string table;     // qualified display name, "" when n/a
  std::optional<i64> range_id;
  std::string hint;      // what the user should do next

  // The one-line message main() prints: "table x range 3: <what>. hint: <hint>".
  std::string describe() const;
};

// Throwing helpers that keep call sites short.
[[noreturn]] void throw_usage(std::string message, std::string hint = {});
[[noreturn]] void throw_data_format(std::string message);
[[noreturn]] void throw_internal(std::string message);

// True for failures worth retrying on a fresh connection.
inline bool is_transient(const Error &e) { return e.kind == ErrorKind::Transient; }

}  // namespace pgcutover
