#include "pgcutover/pg/connection.hpp"

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

#include "pgcutover/pg/sqlstate.hpp"
#include "pgcutover/pg/tls.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {

// Forwards NOTICE / WARNING from the server to our log instead of libpq's stderr.
void notice_receiver(void *arg, const PGresult *res) {
  auto *display = static_cast<std::string *>(arg);
  std::string msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : "";
  const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
  bool warning = sev && std::strcmp(sev, "WARNING") == 0;
  if (warning) log::warn("{}: server says: {}", *display, msg);
  else log::debug("{}: server says: {}", *display, msg);
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Connect-time failures reach the client only as message text; the
// connection is started with PQERRORS_VERBOSE so that text carries the
// server's SQLSTATE, which classifies (never the words, which depend on the
// server's language). No SQLSTATE: the server was never reached (refused,
// unresolvable, timed out) unless libpq wants a password.
ErrorKind classify_connect_failure(PGconn *conn, const std::string &sqlstate) {
  if (PQconnectionNeedsPassword(conn)) return ErrorKind::Auth;
  if (sqlstate.empty()) return ErrorKind::Unreachable;
  if (sqlstate == "3D000") return ErrorKind::Usage;  // invalid_catalog_name: no such database
  if (sqlstate == "53300") return ErrorKind::Transient;  // too_many_connections
  return classify_sqlstate(sqlstate);
}

// Drives a started connection to its end: libpq's own loop (PQconnectdb)
// would block through a signal, so this one wakes every 100 ms to notice
// one, and ends the attempt after connect_timeout seconds without progress
// (per host: a new host or address starts the clock again).
// Returns "" when connected, else why not.
std::string finish_connect(PGconn *conn) {
  int timeout_s = DEFAULT_CONNECT_TIMEOUT_S;
  if (PQconninfoOption *opts = PQconninfo(conn)) {
    for (PQconninfoOption *o = opts; o->keyword; ++o)
      if (std::strcmp(o->keyword, "connect_timeout") == 0 && o->val && *o->val) timeout_s = std::atoi(o->val);
    PQconninfoFree(opts);
  }
  if (timeout_s == 1) timeout_s = 2;  // as libpq does
  using Clock = std::chrono::steady_clock;
  auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  int last_socket = -1;
  while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
    int sock = PQsocket(conn);
    if (sock < 0) break;
    if (sock != last_socket) {
      last_socket = sock;
      deadline = Clock::now() + std::chrono::seconds(timeout_s);
    }
    pollfd p{sock, static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    int rc = ::poll(&p, 1, 100);
    if (rc < 0 && errno != EINTR) return std::string("poll failed: ") + std::strerror(errno);
    cancel::throw_if_requested();
    if (rc <= 0) {
      if (timeout_s > 0 && Clock::now() > deadline)
        return "no answer within " + std::to_string(timeout_s) + " s (connect_timeout)";
      continue;
    }
    st = PQconnectPoll(conn);
  }
  return PQstatus(conn) == CONNECTION_OK ? "" : trim(PQerrorMessage(conn));
}

// See cancel_running_statements().
struct InFlight {
  std::mutex mu;
  std::map<const void *, std::pair<std::shared_ptr<Canceller>, std::chrono::steady_clock::time_point>> statements;
};
InFlight in_flight;

// Registers a connection's statement for the time it blocks.
class InFlightStatement {
 public:
  InFlightStatement(const void *owner, std::shared_ptr<Canceller> canceller) : owner_(owner) {
    if (cancel::in_cleanup()) {
      owner_ = nullptr;  // restoring the target while the run stops: not cancelled with the run
      return;
    }
    std::lock_guard lk(in_flight.mu);
    in_flight.statements[owner_] = {std::move(canceller), std::chrono::steady_clock::now()};
  }
  ~InFlightStatement() {
    if (!owner_) return;
    std::lock_guard lk(in_flight.mu);
    in_flight.statements.erase(owner_);
  }
  InFlightStatement(const InFlightStatement &) = delete;
  InFlightStatement &operator=(const InFlightStatement &) = delete;

 private:
  const void *owner_;
};

}  // namespace

void cancel_running_statements(std::chrono::milliseconds min_age) noexcept {
  auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Canceller>> due;
  {
    std::lock_guard lk(in_flight.mu);
    for (const auto &[owner, s] : in_flight.statements)
      if (now - s.second >= min_age) due.push_back(s.first);
  }
  for (const auto &c : due) c->cancel();  // outside the registry's lock: PQcancel talks to the server
}

Connection Connection::open(const std::string &conninfo, const SessionSettings &settings) {
  Connection c;
  c.view_ = parse_conninfo(conninfo);
  c.display_ = pg::display_name(c.view_);
  c.settings_ = settings;

  // Pinned at connect time (the "options" startup parameter could be
  // overridden by the conninfo, so these go in as SET statements below);
  // then the timeout and keepalives the conninfo leaves unset (later keys
  // override the expanded conninfo, so only unset ones are added).
  std::vector<std::pair<std::string, std::string>> extra = connect_defaults(conninfo);
  std::vector<const char *> keys = {"dbname", "fallback_application_name", "client_encoding"};
  std::vector<const char *> vals = {conninfo.c_str(), settings.application_name.c_str(), "UTF8"};
  for (const auto &[k, v] : extra) {
    keys.push_back(k.c_str());
    vals.push_back(v.c_str());
  }
  if (settings.replication) {  // after the conninfo: it must not turn a replication session off
    keys.push_back("replication");
    vals.push_back("database");
  }
  keys.push_back(nullptr);
  vals.push_back(nullptr);
  c.conn_.reset(PQconnectStartParams(keys.data(), vals.data(), /*expand_dbname=*/1));
  std::string failure = "out of memory";
  if (c.conn_ && PQstatus(c.conn_.get()) != CONNECTION_BAD) {
    PQsetErrorVerbosity(c.conn_.get(), PQERRORS_VERBOSE);  // the SQLSTATE of a refusal, see classify_connect_failure
    failure = finish_connect(c.conn_.get());
    PQsetErrorVerbosity(c.conn_.get(), PQERRORS_DEFAULT);
  } else if (c.conn_) {
    failure = trim(PQerrorMessage(c.conn_.get()));
  }
  if (!c.conn_ || PQstatus(c.conn_.get()) != CONNECTION_OK) {
    std::string state = sqlstate_of_verbose_message(failure);
    std::string msg = redact(without_verbose_fields(failure), c.view_);
    ErrorKind kind = c.conn_ ? classify_connect_failure(c.conn_.get(), state) : ErrorKind::Internal;
    std::string hint;
    switch (kind) {
      case ErrorKind::Auth:
        hint = "check the user and password (use ~/.pgpass, a service file or PGPASSWORD rather than a password on the command line)";
        break;
      case ErrorKind::Unreachable:
      case ErrorKind::Transient:
        hint = "check that the server is running and reachable from this host (host, port, firewall, pg_hba.conf)";
        break;
      case ErrorKind::Usage: hint = "check the database name in the connection string"; break;
      default: break;
    }
    if (auto tls = tls_hint(msg, settings.role); tls && kind != ErrorKind::Usage) std::tie(kind, hint) = std::pair(ErrorKind::Unreachable, *tls);
    Error e(kind, "cannot connect to the " + settings.role + " " + c.display_ + ": " + msg, hint);
    e.sqlstate = state;
    throw e;
  }
  c.display_ = settings.role.empty() ? c.display_ : settings.role + " " + c.display_;
  c.notice_arg_ = std::make_unique<std::string>(c.display_);
  PQsetNoticeReceiver(c.conn_.get(), notice_receiver, c.notice_arg_.get());
  c.canceller_ = std::make_shared<Canceller>(c.conn_.get());

  // Every setting that changes what COPY produces or accepts, pinned. A
  // replication session before PostgreSQL 15 parses each query string with
  // the replication grammar first, which takes one SQL statement only.
  if (!settings.replication) {
    c.exec(session_setup(settings));
  } else {
    const std::string setup = session_setup(settings);
    for (size_t at = 0; at < setup.size();) {
      size_t end = setup.find("; ", at);
      if (end == std::string::npos) end = setup.size();
      if (end > at) c.exec(std::string_view(setup).substr(at, end - at));
      at = end + 2;
    }
  }
  return c;
}

Connection::Connection(Connection &&) noexcept = default;
Connection &Connection::operator=(Connection &&) noexcept = default;

Connection::~Connection() {
  // The display_ string is the notice receiver's argument; detach before it moves or dies.
  if (conn_) PQsetNoticeReceiver(conn_.get(), [](void *, const PGresult *) {}, nullptr);
}

int Connection::server_version() const { return PQserverVersion(conn_.get()); }

Canceller::Canceller(PGconn *conn) : handle_(PQgetCancel(conn)) {}

void Canceller::cancel() noexcept {
  std::lock_guard lk(mu_);
  if (!handle_) return;
  char buf[256];
  PQcancel(handle_.get(), buf, sizeof buf);
}

void Connection::cancel() noexcept {
  if (canceller_) canceller_->cancel();
}

Error Connection::make_error(PGresult *res, std::string_view context) const {
  std::string state, primary, detail, hint;
  if (res) {
    auto field = [&](int code) {
      const char *v = PQresultErrorField(res, code);
      return std::string(v ? v : "");
    };
    state = field(PG_DIAG_SQLSTATE);
    primary = field(PG_DIAG_MESSAGE_PRIMARY);
    detail = field(PG_DIAG_MESSAGE_DETAIL);
    hint = field(PG_DIAG_MESSAGE_HINT);
  }
  if (primary.empty()) primary = trim(PQerrorMessage(conn_.get()));
  if (primary.empty()) primary = "unknown error";
  ErrorKind kind = classify_sqlstate(state);
  if (PQstatus(conn_.get()) != CONNECTION_OK) kind = ErrorKind::Transient;
  std::string msg = display_ + ": " + std::string(context) + ": " + primary;
  if (!detail.empty()) msg += " (" + detail + ")";
  if (kind == ErrorKind::DiskFull)
    hint = "the " + settings_.role + " server ran out of disk space: free space there (or move the table to a roomier "
           "tablespace), then rerun the same command; finished ranges are kept";
  Error e(kind, redact(msg, view_), hint);
  e.sqlstate = state;
  return e;
}

Result Connection::exec(std::string_view sql) { return run(sql, nullptr); }

Result Connection::query(std::string_view sql, const std::vector<Param> &params) { return run(sql, &params); }

Result Connection::run(std::string_view sql, const std::vector<Param> *params) {
  if (broken_) throw Error(ErrorKind::Transient, display_ + ": connection is broken and was not reused");
  auto start = std::chrono::steady_clock::now();
  std::string text(sql);
  PGresult *raw;
  InFlightStatement registered(this, canceller_);
  if (params) {
    std::vector<const char *> values;
    values.reserve(params->size());
    for (const Param &p : *params) values.push_back(p ? p->c_str() : nullptr);
    raw = PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                       nullptr, nullptr, 0);
  } else {
    raw = PQexec(conn_.get(), text.c_str());
  }
  ResultHandle res(raw);
  if (log::enabled(log::Level::Debug)) {
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    log::debug("{}: {:.1f} ms: {}", display_, ms, text.size() > 400 ? text.substr(0, 400) + "..." : text);
  }
  ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return Result(std::move(res));
  Error e = make_error(res.get(), "query failed");
  if (e.kind == ErrorKind::Transient && PQstatus(conn_.get()) != CONNECTION_OK) broken_ = true;
  throw e;
}

void Connection::start_copy(std::string_view sql, bool copy_out) {
  if (broken_) throw Error(ErrorKind::Transient, display_ + ": connection is broken and was not reused");
  std::string text(sql);
  log::debug("{}: {}", display_, text);
  ResultHandle res(PQexec(conn_.get(), text.c_str()));
  ExecStatusType want = copy_out ? PGRES_COPY_OUT : PGRES_COPY_IN;
  if (res && PQresultStatus(res.get()) == want) return;
  Error e = make_error(res.get(), copy_out ? "COPY TO STDOUT failed" : "COPY FROM STDIN failed");
  if (PQstatus(conn_.get()) != CONNECTION_OK) broken_ = true;
  throw e;
}

}  // namespace pgcutover::pg
