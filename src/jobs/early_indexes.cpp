#include "early_indexes.hpp"

#include <algorithm>
#include <chrono>

#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::jobs {

EarlyIndexes::EarlyIndexes(const pg::Endpoints &ends, const ledger::Ledger &ledger, const schema::PostData &post,
                           int jobs, const schema::SchemaOptions &opt)
    : ends_(ends), ledger_(ledger), post_(post), jobs_(jobs), opt_(opt) {
  thread_ = std::thread([this] { run(); });
}

EarlyIndexes::~EarlyIndexes() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  slot_.terminate();  // pg_restore cancels its statements on SIGTERM
  thread_.join();
}

std::vector<EarlyBuild> EarlyIndexes::finish() {
  if (thread_.joinable()) {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  return built_;
}

bool EarlyIndexes::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_; });
  return stop_;
}

void EarlyIndexes::run() {
  // The tables with items of their own, not built yet by this process.
  std::vector<sql::QualifiedName> waiting;
  for (const schema::PostDataItem &i : post_.items)
    if (i.table && std::find(waiting.begin(), waiting.end(), *i.table) == waiting.end()) waiting.push_back(*i.table);
  try {
    pg::Connection c = pg::Connection::open(ends_.target_conninfo, ends_.target_settings);
    while (!waiting.empty() && !wait_or_stop(std::chrono::milliseconds(0))) {
      for (const sql::QualifiedName &t : ledger_.tables_done(c)) {
        auto it = std::find(waiting.begin(), waiting.end(), t);
        if (it == waiting.end()) continue;
        if (wait_or_stop(std::chrono::milliseconds(0))) break;
        // Another process of the job is building: try again at the next look.
        if (!ledger_.try_lock_post_data(c)) break;
        std::vector<const schema::PostDataItem *> items = schema::missing_on_target(c, post_.of_table(t));
        auto t0 = std::chrono::steady_clock::now();
        schema::restore_items(ends_.target_conninfo, post_, items, jobs_, opt_, "the indexes of " + t.display(), &slot_);
        ledger_.unlock_post_data(c);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!items.empty()) {
          log::info("{}: {} index(es) and key constraint(s) built in {:.1f} s while other tables' data loads",
                    t.display(), items.size(), s);
          std::lock_guard lock(mu_);
          built_.push_back({t, static_cast<int>(items.size()), s});
        }
        waiting.erase(it);
      }
      if (wait_or_stop(std::chrono::milliseconds(500))) break;
    }
  } catch (const Error &e) {
    // The session (and the post-data lock with it) ends with the connection.
    if (!slot_.stopped())
      log::warn("building indexes while the data loads stopped: {}; what is missing is built after the data", e.what());
  } catch (const std::exception &e) {
    log::warn("building indexes while the data loads stopped: {}; what is missing is built after the data", e.what());
  }
}

}  // namespace pgcutover::jobs
