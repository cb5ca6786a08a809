#pragma once
// The target's run lock: what may write to one target at the same time.
// A sync, a repair, a sequence reset and finish each need the target to
// themselves (Exclusive); copy and load processes may share it (Shared: the
// processes of one copy job share its ranges through the ledger), but never
// with an exclusive run. Session-level advisory lock keyed by the tool schema,
// taken without waiting: a run that cannot have it stops before writing
// anything and names the holder (its command, host:pid and since when, from
// the ledger's runs table; its server session from pg_stat_activity). The
// lock lives on a connection of its own and ends with it, so a killed run
// never leaves it behind; a target restart ends it too, and hold() takes it
// again (or stops the run when another took it meanwhile).
#include <optional>
#include <string>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/session.hpp"

namespace pgcutover::ledger {

enum class RunMode { Shared, Exclusive };

class RunLock {
 public:
  // Takes the lock on a connection of its own or throws (Permanent) naming
  // the holder. record: write who holds it to the tool schema's runs table
  // (which must exist: Ledger::ensure_tables).
  RunLock(const std::string &conninfo, const pg::SessionSettings &settings, const std::string &tool_schema,
          const std::string &command, RunMode mode, bool record = true);
  RunLock(const RunLock &) = delete;
  RunLock &operator=(const RunLock &) = delete;
  ~RunLock();  // never throws

  int backend_pid() const;  // the server session holding the lock (0 when none)
  // Other sessions holding the lock now (the other processes of a shared run).
  int others();
  // For a shared holder at its end: true when no other process holds the
  // lock any more, and this one now holds it alone (exclusive) until it ends
  // or share_again(); false when another still holds it (that one is then
  // last out), and this one no longer holds it.
  bool last_out();
  void share_again();  // after last_out(): shared again, best effort

  // Still held: when its connection died (a target restart), takes it
  // again, or throws naming who took it meanwhile.
  void hold();

 private:
  void take();

  std::string conninfo_;
  pg::SessionSettings settings_;
  std::string tool_schema_, command_;
  RunMode mode_;
  bool record_;
  std::optional<pg::Connection> conn_;
};

}  // namespace pgcutover::ledger
