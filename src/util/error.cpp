#include "pgcutover/util/error.hpp"

namespace pgcutover {

const char *to_string(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return "usage";
    case ErrorKind::Auth: return "auth";
    case ErrorKind::Unreachable: return "unreachable";
    case ErrorKind::Transient: return "transient";
    case ErrorKind::Permanent: return "permanent";
    case ErrorKind::DataFormat: return "data_format";
    case ErrorKind::DiskFull: return "disk_full";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Internal: return "internal";
  }
  return "unknown";
}

std::string Error::describe() const {
  std::string out;
  if (!table.empty()) {
    out += "table " + table;
    if (range_id) out += " range " + std::to_string(*range_id);
    out += ": ";
  }
  out += what();
  if (!sqlstate.empty()) out += " (SQLSTATE " + sqlstate + ")";
  if (!hint.empty()) out += "\nhint: " + hint;
  return out;
}

void throw_usage(std::string message, std::string hint) {
  throw Error(ErrorKind::Usage, std::move(message), std::move(hint));
}
void throw_data_format(std::string message) {
  throw Error(ErrorKind::DataFormat, std::move(message));
}
void throw_internal(std::string message) {
  throw Error(ErrorKind::Internal, std::move(message));
}

}  // namespace pgcutover
