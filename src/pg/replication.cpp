// The logical replication session (see replication.hpp).
#include "pgcutover/pg/replication.hpp"

#include <poll.h>

#include <cerrno>
#include <cstring>

#include "pgcutover/sql/replication.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {

// Waits until the connection's socket is readable, at most `ms`; false on timeout.
bool wait_readable(PGconn *conn, int ms) {
  pollfd p{PQsocket(conn), POLLIN, 0};
  int rc = ::poll(&p, 1, ms);
  if (rc < 0 && errno != EINTR) throw Error(ErrorKind::Internal, std::string("poll failed: ") + std::strerror(errno));
  return rc > 0;
}

// CREATE_REPLICATION_SLOT's row: slot_name, consistent_point, snapshot_name, output_plugin.
CreatedSlot slot_of(const Result &r) {
  if (r.rows() != 1 || r.columns() < 3) throw_internal("CREATE_REPLICATION_SLOT returned an unexpected result");
  return CreatedSlot{std::string(r.get(0, 0)), logical::Lsn::parse(r.get(0, 1)), std::string(r.get(0, 2))};
}

}  // namespace

ReplicationSession ReplicationSession::open(const std::string &conninfo, const SessionSettings &settings) {
  SessionSettings s = settings;
  s.replication = true;
  // The slot's creation waits on transaction locks: --slot-wait bounds it
  // (naming the blockers), not the run's lock or statement timeout.
  s.lock_timeout_ms = 0;
  s.statement_timeout_ms = 0;
  return ReplicationSession(Connection::open(conninfo, s));
}

ReplicationSession::ReplicationSession(ReplicationSession &&o) noexcept
    : conn_(std::move(o.conn_)), buffer_(std::exchange(o.buffer_, nullptr)) {}

ReplicationSession &ReplicationSession::operator=(ReplicationSession &&o) noexcept {
  if (this != &o) {
    free_buffer();
    conn_ = std::move(o.conn_);
    buffer_ = std::exchange(o.buffer_, nullptr);
  }
  return *this;
}

ReplicationSession::~ReplicationSession() { free_buffer(); }

void ReplicationSession::free_buffer() {
  if (buffer_) PQfreemem(buffer_);
  buffer_ = nullptr;
}

int ReplicationSession::backend_pid() const { return PQbackendPID(conn_.raw()); }

std::vector<SlotBlocker> slot_creation_blockers(Connection &observer, int replication_pid) {
  Result r = observer.query(sql::replication::slot_creation_blockers(), {std::to_string(replication_pid)});
  std::vector<SlotBlocker> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({static_cast<int>(r.get_i64(i, 0)), std::string(r.get(i, 1)), r.get_double(i, 2),
                   std::string(r.get(i, 3))});
  return out;
}

CreatedSlot ReplicationSession::create_slot(const std::string &name, std::chrono::milliseconds wait,
                                            Connection &observer) {
  PGconn *c = conn_.raw();
  const std::string text = sql::replication::create_logical_slot(name);
  log::debug("{}: {}", conn_.display_name(), text);
  if (!PQsendQuery(c, text.c_str())) throw conn_.make_error(nullptr, "cannot send CREATE_REPLICATION_SLOT");
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<SlotBlocker> blockers;
  for (;;) {
    if (!PQconsumeInput(c)) {
      conn_.mark_broken();
      throw conn_.make_error(nullptr, "creating the replication slot " + name);
    }
    if (!PQisBusy(c)) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline || cancel::requested()) {
      // Read who holds it up before the cancel lets them go unnamed.
      try {
        blockers = slot_creation_blockers(observer, backend_pid());
      } catch (const Error &e) {
        log::warn("could not list what the slot's creation waits for: {}", e.what());
      }
      conn_.cancel();
      // The creation may have finished before the cancel reached it: then the
      // slot exists, and is returned (or, on a signal, dropped), never left
      // behind unnamed. The drain is bounded: a session still busy after it
      // is closed by its owner, which ends the creation and its temporary slot.
      std::optional<CreatedSlot> made;
      const auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        if (!PQconsumeInput(c)) break;
        if (PQisBusy(c)) {
          if (std::chrono::steady_clock::now() >= drain_until) break;
          wait_readable(c, 200);
          continue;
        }
        ResultHandle r{PQgetResult(c)};
        if (!r) break;
        if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) made = slot_of(Result(std::move(r)));
      }
      if (PQisBusy(c) || PQstatus(c) != CONNECTION_OK) conn_.mark_broken();
      if (made && !cancel::requested()) return *made;
      if (made) {
        try {
          conn_.exec(sql::replication::drop_slot(made->name));
        } catch (const Error &e) {
          log::warn("the replication slot {} was created as the run was interrupted, and dropping it failed: {}; "
                    "drop it with SELECT pg_drop_replication_slot('{}')", made->name, e.what(), made->name);
        }
      }
      cancel::throw_if_requested();
      std::string names;
      for (size_t i = 0; i < blockers.size() && i < 5; ++i)
        names += (i ? "; " : "") + blockers[i].who + ", open " + std::to_string(static_cast<i64>(blockers[i].age_s)) +
                 " s" + (blockers[i].query.empty() ? "" : ", last statement: " + blockers[i].query);
      if (blockers.size() > 5) names += "; and " + std::to_string(blockers.size() - 5) + " more";
      throw Error(ErrorKind::Permanent,
                  "the source's replication slot " + name + " was not created within " +
                      std::to_string(wait.count() / 1000) + " s: its creation waits for every transaction open on "
                      "the server to end" + (names.empty() ? std::string(".") : ", and these did not: " + names),
                  "end or commit those transactions (or wait for them), then rerun; --slot-wait sets how long to wait");
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    wait_readable(c, static_cast<int>(std::min<long long>(left, 200)));
  }
  ResultHandle res{PQgetResult(c)};
  while (ResultHandle extra{PQgetResult(c)}) {
  }
  if (!res || PQresultStatus(res.get()) != PGRES_TUPLES_OK) {
    Error e = conn_.make_error(res.get(), "CREATE_REPLICATION_SLOT " + name + " failed");
    if (PQstatus(c) != CONNECTION_OK) conn_.mark_broken();
    throw e;
  }
  return slot_of(Result(std::move(res)));
}

void ReplicationSession::start(const std::string &slot, logical::Lsn from,
                               const std::vector<std::pair<std::string, std::string>> &options) {
  const std::string text = sql::replication::start_logical(slot, from.text(), options);
  log::debug("{}: {}", conn_.display_name(), text);
  ResultHandle res{PQexec(conn_.raw(), text.c_str())};
  if (res && PQresultStatus(res.get()) == PGRES_COPY_BOTH) return;
  Error e = conn_.make_error(res.get(), "START_REPLICATION of slot " + slot + " failed");
  if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
  throw e;
}

std::optional<std::span<const char>> ReplicationSession::next(std::chrono::milliseconds wait) {
  free_buffer();
  PGconn *c = conn_.raw();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    int n = PQgetCopyData(c, &buffer_, /*async=*/1);
    if (n > 0) return std::span<const char>(buffer_, static_cast<size_t>(n));
    if (n == -1) {  // the server ended the stream: collect why
      ResultHandle res{PQgetResult(c)};
      if (res && PQresultStatus(res.get()) == PGRES_COPY_IN) {  // its CopyDone: answer with ours, then read the end
        PQputCopyEnd(c, nullptr);
        PQflush(c);
        res.reset(PQgetResult(c));
      }
      Error e = conn_.make_error(res.get(), "the replication stream ended");
      if (e.kind != ErrorKind::Transient) e.kind = ErrorKind::Transient;
      while (ResultHandle extra{PQgetResult(c)}) {
      }
      throw e;
    }
    if (n == -2) {
      conn_.mark_broken();
      throw conn_.make_error(nullptr, "the replication stream failed");
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    if (wait_readable(c, static_cast<int>(left)) && !PQconsumeInput(c)) {
      conn_.mark_broken();
      throw conn_.make_error(nullptr, "the replication stream failed");
    }
  }
}

void ReplicationSession::send_status(logical::Lsn received, logical::Lsn flushed, logical::Lsn applied,
                                     bool reply_requested) {
  const std::string msg =
      logical::standby_status_update(received, flushed, applied, logical::pg_epoch_micros_now(), reply_requested);
  PGconn *c = conn_.raw();
  if (PQputCopyData(c, msg.data(), static_cast<int>(msg.size())) != 1 || PQflush(c) != 0) {
    conn_.mark_broken();
    throw conn_.make_error(nullptr, "cannot send the replication status");
  }
}

}  // namespace pgcutover::pg
