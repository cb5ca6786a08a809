#pragma once
// Runs a program with an argv (never through a shell) and extra environment
// variables, capturing its stderr. Secrets go through the environment, never
// argv, so they do not show in process listings.
#include <string>
#include <utility>
#include <vector>

namespace pgcutover::util {

struct ProcessResult {
  int exit_code = -1;      // 128 + signal when killed by a signal
  std::string err;         // captured stderr (last 64 KiB)
};

ProcessResult run_process(const std::vector<std::string> &argv,
                          const std::vector<std::pair<std::string, std::string>> &env = {});

// The same, with stdout captured too (into err, interleaved with stderr): for
// short outputs such as `pg_dump --version`.
ProcessResult run_process_output(const std::vector<std::string> &argv);

// Finds a PostgreSQL client program: in bindir if given, else the newest
// /usr/lib/postgresql/*/bin, else PATH. Throws Usage if not found.
std::string find_pg_program(const std::string &name, const std::string &bindir);

}  // namespace pgcutover::util
