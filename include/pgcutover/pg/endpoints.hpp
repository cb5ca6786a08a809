#pragma once
// Both ends of a command: source and target conninfo with their session
// settings. Whoever holds Endpoints can open fresh connections (pools,
// retries, diagnostics); the conninfo is never printed.
#include <string>

#include "pgcutover/pg/session.hpp"

namespace pgcutover::pg {

struct Endpoints {
  std::string source_conninfo;
  std::string target_conninfo;
  SessionSettings source_settings;
  SessionSettings target_settings;
};

}  // namespace pgcutover::pg
