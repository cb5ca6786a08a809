// The lock wait watcher (see lock_watch.hpp).
#include "pgcutover/pg/lock_watch.hpp"

#include <fmt/format.h>

#include <map>
#include <optional>
#include <tuple>

#include "pgcutover/pg/connection.hpp"
#include "pgcutover/sql/server.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {

using Clock = std::chrono::steady_clock;

// One watcher per process: a job run inside another (sync copying new tables)
// is watched by the outer one already.
std::atomic<int> active{0};

struct Server {
  std::string conninfo;
  SessionSettings settings;
  std::optional<Connection> conn;
  bool given_up = false;
  i64 lock_timeout_ms = 0;  // the run's --lock-timeout on this server (0: none)
};

}  // namespace

LockWaitWatcher::LockWaitWatcher(const Endpoints &ends, std::function<void(const std::string &)> status)
    : ends_(ends), status_(std::move(status)) {
  if (active.fetch_add(1) == 0) thread_ = std::thread([this] { run(); });
}

LockWaitWatcher::~LockWaitWatcher() {
  done_.store(true);
  if (thread_.joinable()) thread_.join();
  active.fetch_sub(1);
}

void LockWaitWatcher::run() {
  std::vector<Server> servers;
  for (auto [conninfo, settings] :
       {std::pair{ends_.target_conninfo, ends_.target_settings}, std::pair{ends_.source_conninfo, ends_.source_settings}}) {
    if (conninfo.empty()) continue;
    const i64 lock_timeout_ms = settings.lock_timeout_ms;
    settings.lock_timeout_ms = 0;
    settings.statement_timeout_ms = 5000;  // its own questions never hang
    settings.replica_writes = false;
    servers.push_back({conninfo, settings, std::nullopt, false, lock_timeout_ms});
  }
  // Last report per (server, waiting pid, what it waits for).
  std::map<std::tuple<std::string, std::string, std::string>, Clock::time_point> reported;
  bool showing = false;
  auto stopping = [&] { return done_.load() || cancel::requested(); };
  while (!stopping()) {
    std::string status;
    for (Server &s : servers) {
      if (s.given_up || stopping()) continue;
      try {
        if (!s.conn) s.conn = Connection::open(s.conninfo, s.settings);
        Result r = s.conn->query(sql::server::lock_waits(s.conn->server_version()),
                                 {s.settings.application_name, std::to_string(LOCK_WAIT_REPORT_AFTER.count())});
        for (int i = 0; i < r.rows(); ++i) {
          std::string line =
              fmt::format("waiting {}s for a lock on {} ({}): held by pid {} user {} application {}, mode {}, since {}, "
                          "query \"{}\"",
                          r.get(i, 1), r.get(i, 2), s.settings.role, r.get(i, 3), r.get(i, 4),
                          r.get(i, 5).empty() ? std::string_view("''") : r.get(i, 5), r.get(i, 6), r.get(i, 7),
                          r.get(i, 8));
          if (status.empty()) status = line;
          // A session that set no lock_timeout of its own (pg_restore sets
          // lock_timeout = 0 in its sessions, whatever PGOPTIONS says) is
          // held to --lock-timeout here: its statement is cancelled.
          if (s.lock_timeout_ms > 0 && r.get_i64(i, 1) * 1000 >= s.lock_timeout_ms + 1000) {
            s.conn->query(sql::server::cancel_backend(), {std::string(r.get(i, 0))});
            log::warn("{}: lock timeout: gave up after --lock-timeout {} (the statement of pid {} was cancelled)", line,
                      fmt::format("{}s", s.lock_timeout_ms / 1000.0), r.get(i, 0));
            continue;
          }
          auto key = std::make_tuple(s.settings.role, std::string(r.get(i, 0)), std::string(r.get(i, 2)));
          auto now = Clock::now();
          auto it = reported.find(key);
          if (it != reported.end() && now - it->second < LOCK_WAIT_REPEAT) continue;
          reported[key] = now;
          log::warn("{}", line);
        }
      } catch (const Error &e) {
        // Watching is a courtesy: a server it cannot ask is left alone.
        log::debug("lock wait watcher: stops asking the {}: {}", s.settings.role, e.what());
        s.conn.reset();
        s.given_up = true;
      }
    }
    if (status_ && (!status.empty() || showing)) {
      status_(status);
      showing = !status.empty();
    }
    for (int i = 0; i < 10 && !stopping(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (status_ && showing) status_("");
}

}  // namespace pgcutover::pg
