#pragma once
// Waiting is visible: while a job runs, a thread with its own session on each
// server (application_name of the tool) looks every half second for the tool's
// statements that have waited on a lock for LOCK_WAIT_REPORT_AFTER or more,
// and says what they wait for and who holds it, as a log line repeated at
// most every LOCK_WAIT_REPEAT per wait, and as the live line's status:
//
//   waiting 5s for a lock on public.orders (target): held by pid 1234 user app
//   application psql, mode AccessExclusiveLock, since 12:00:01, query "ALTER TABLE ..."
//
// A statement still waiting a second past --lock-timeout (a pg_restore child,
// whose sessions set lock_timeout = 0 themselves) is cancelled, with a
// warning saying so: every wait of a run is bounded by --lock-timeout.
//
// It stops on the first signal (cancel::requested) and on destruction; a
// failure to connect or to ask only ends the watching (logged at debug level):
// it never fails the job.
#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include "pgcutover/pg/endpoints.hpp"

namespace pgcutover::pg {

inline constexpr std::chrono::seconds LOCK_WAIT_REPORT_AFTER{2};
inline constexpr std::chrono::seconds LOCK_WAIT_REPEAT{10};

class LockWaitWatcher {
 public:
  // status: called with the current wait's line, and with "" once no
  // statement waits any more (from the watcher's thread).
  LockWaitWatcher(const Endpoints &ends, std::function<void(const std::string &)> status = {});
  LockWaitWatcher(const LockWaitWatcher &) = delete;
  LockWaitWatcher &operator=(const LockWaitWatcher &) = delete;
  ~LockWaitWatcher();

 private:
  void run();

  Endpoints ends_;
  std::function<void(const std::string &)> status_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace pgcutover::pg
