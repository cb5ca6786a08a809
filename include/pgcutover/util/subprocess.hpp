#pragma once
// Runs a program with an argv (never through a shell) and extra environment
// variables, capturing its stderr. Secrets go through the environment, never
// argv, so they do not show in process listings.
#include <sys/types.h>

#include <atomic>
#include <mutex>
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

// A running child another thread may stop: run_process with a ChildSlot
// publishes the child's pid there while it runs, and terminate() sends it
// SIGTERM. The pid is cleared before the child is reaped, so terminate()
// never signals a reused pid.
class ChildSlot {
 public:
  void terminate();
  bool stopped() const { return stopped_.load(); }

 private:
  friend struct ChildSlotAccess;
  std::mutex mu_;
  pid_t pid_ = 0;
  std::atomic<bool> stopped_{false};  // terminate() was called: no new child starts
};

ProcessResult run_process(const std::vector<std::string> &argv,
                          const std::vector<std::pair<std::string, std::string>> &env, ChildSlot &slot);

// The same, with stdout captured too (into err, interleaved with stderr): for
// short outputs such as `pg_dump --version`.
ProcessResult run_process_output(const std::vector<std::string> &argv);

// Finds a PostgreSQL client program: in bindir if given, else the newest
// /usr/lib/postgresql/*/bin, else PATH. Throws Usage if not found.
std::string find_pg_program(const std::string &name, const std::string &bindir);

}  // namespace pgcutover::util
