#pragma once
// Connection: one libpq connection, used by one thread at a time.
//
// Every statement goes through one private run(): it logs the SQL with its
// duration at debug level, checks the status and turns failures into Errors
// carrying the SQLSTATE. A connection that saw a connection-level error is
// marked broken and must be replaced, never reused. The conninfo itself is
// never stored in printable form: only display_name() is shown to users.
#include <atomic>
#include <chrono>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/pg/handle.hpp"
#include "pgcutover/pg/result.hpp"
#include "pgcutover/pg/session.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::pg {

using Param = std::optional<std::string>;  // nullopt = SQL NULL

// Sends cancel requests for one connection's session. Shared between the
// connection and whoever may cancel it from another thread (a pool's cancel
// watcher), so it stays valid after the connection is closed and freed; a
// cancel then reaches a session that is gone, which is harmless.
class Canceller {
 public:
  explicit Canceller(PGconn *conn);
  Canceller(const Canceller &) = delete;
  Canceller &operator=(const Canceller &) = delete;
  void cancel() noexcept;

 private:
  std::mutex mu_;
  CancelHandle handle_;
};

// Statements in flight on any connection of the process, so that a signal
// can cancel those its owners wait in (a catalog query blocked on a lock, a
// lock wait in the finish phase), not only the pipeline's pooled ones. Next
// to the signal flag, the one piece of process-wide state of cancellation:
// Connection::run registers while it blocks, the signal watcher in main()
// reads it. Cancels statements running for at least min_age (0: all);
// never throws.
void cancel_running_statements(std::chrono::milliseconds min_age) noexcept;

class Connection {
 public:
  // Connects and applies the session settings; throws Error (Auth, Unreachable,
  // Usage for a missing database) whose message names display_name() only.
  static Connection open(const std::string &conninfo, const SessionSettings &settings);

  Connection(Connection &&) noexcept;
  Connection &operator=(Connection &&) noexcept;
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;
  ~Connection();

  Result exec(std::string_view sql);                          // simple protocol, one or more statements
  Result query(std::string_view sql, const std::vector<Param> &params);  // $n parameters, text format

  // Starts a COPY; used by CopyOut / CopyIn. Expects PGRES_COPY_OUT or PGRES_COPY_IN.
  void start_copy(std::string_view sql, bool copy_out);

  const std::string &display_name() const { return display_; }
  const std::string &role() const { return settings_.role; }
  const SessionSettings &settings() const { return settings_; }
  int server_version() const;
  bool broken() const { return broken_; }
  void mark_broken() { broken_ = true; }

  // Asks the server to cancel what this connection runs now. Thread-safe: the
  // only call another thread may make on a connection it does not own.
  void cancel() noexcept;
  const std::shared_ptr<Canceller> &canceller() const { return canceller_; }

  // Builds the Error for the connection's last failure (or a given result).
  Error make_error(PGresult *res, std::string_view context) const;

  PGconn *raw() const { return conn_.get(); }  // for pg/ internals only

 private:
  Connection() = default;
  Result run(std::string_view sql, const std::vector<Param> *params);

  ConnHandle conn_;
  std::shared_ptr<Canceller> canceller_;
  std::string display_;
  std::unique_ptr<std::string> notice_arg_;  // stable address for the notice receiver
  ConninfoView view_;
  SessionSettings settings_;
  bool broken_ = false;
};

}  // namespace pgcutover::pg
