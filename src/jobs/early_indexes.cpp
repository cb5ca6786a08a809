#include "early_indexes.hpp"

#include <algorithm>
#include <chrono>

#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::jobs {

namespace {
// While the data loads, the index builds take one CPU at most: no parallel
// maintenance workers (the ranges' sessions keep the rest).
constexpr const char *SETTINGS = "-c max_parallel_maintenance_workers=0";
}  // namespace

EarlyIndexes::EarlyIndexes(const pg::Endpoints &ends, const ledger::Ledger &ledger, const schema::PostData &post,
                           int jobs, const schema::SchemaOptions &opt, const std::atomic<i64> &ranges_done)
    : ends_(ends), ledger_(ledger), post_(post), jobs_(jobs), opt_(opt), ranges_done_(ranges_done) {
  thread_ = std::thread([this] { run(); });
}

void EarlyIndexes::request_stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

EarlyIndexes::~EarlyIndexes() {
  if (!thread_.joinable()) return;
  request_stop();
  slot_.terminate();  // pg_restore cancels its statements on SIGTERM
  thread_.join();
}

std::vector<EarlyBuild> EarlyIndexes::finish() {
  if (thread_.joinable()) {
    request_stop();
    thread_.join();
  }
  return built_;
}

bool EarlyIndexes::wait_or_stop(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_; });
  return stop_;
}

// Half a second, or less once this process commits another range.
bool EarlyIndexes::wait_for_ranges_or_stop(i64 &seen) {
  for (int i = 0; i < 10; ++i) {
    if (wait_or_stop(std::chrono::milliseconds(50))) return true;
    i64 now = ranges_done_.load(std::memory_order_relaxed);
    if (now != seen) {
      seen = now;
      return false;
    }
  }
  return false;
}

void EarlyIndexes::record(const sql::QualifiedName &table, int items, double seconds) {
  std::lock_guard lock(mu_);
  for (EarlyBuild &b : built_)
    if (b.table == table) {
      b.items += items;
      b.seconds += seconds;
      return;
    }
  built_.push_back({table, items, seconds});
}

void EarlyIndexes::run() {
  // Tables with items of their own not built yet by this process; tables
  // whose data is in and whose own items are built (or that have none); the
  // foreign keys not built yet, each waiting for both its tables to be ready.
  std::vector<sql::QualifiedName> waiting, ready;
  for (const schema::PostDataItem &i : post_.items)
    if (i.own() && std::find(waiting.begin(), waiting.end(), *i.table) == waiting.end()) waiting.push_back(*i.table);
  std::vector<const schema::PostDataItem *> fks = post_.foreign_keys();
  auto is_ready = [&](const sql::QualifiedName &t) { return std::find(ready.begin(), ready.end(), t) != ready.end(); };
  auto stopping = [&] { return wait_or_stop(std::chrono::milliseconds(0)); };
  i64 seen = ranges_done_.load(std::memory_order_relaxed);
  try {
    pg::Connection c = pg::Connection::open(ends_.target_conninfo, ends_.target_settings);
    while ((!waiting.empty() || !fks.empty()) && !stopping()) {
      for (const sql::QualifiedName &t : ledger_.tables_done(c)) {
        if (is_ready(t)) continue;
        auto it = std::find(waiting.begin(), waiting.end(), t);
        if (it == waiting.end()) {
          ready.push_back(t);
          continue;
        }
        if (stopping()) break;
        // Another process of the job is building: try again at the next look.
        if (!ledger_.try_lock_post_data(c)) break;
        std::vector<const schema::PostDataItem *> items = post_.missing_on_target(c, post_.of_table(t));
        auto t0 = std::chrono::steady_clock::now();
        schema::restore_items(ends_.target_conninfo, post_, items, jobs_, opt_, "the indexes of " + t.display(), &slot_,
                              SETTINGS);
        ledger_.unlock_post_data(c);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (!items.empty()) {
          log::info("{}: {} index(es) and key constraint(s) built in {:.1f} s while other data loads", t.display(),
                    items.size(), s);
          record(t, static_cast<int>(items.size()), s);
        }
        waiting.erase(it);
        ready.push_back(t);
      }
      // Foreign keys whose two tables are both ready: their check runs now
      // instead of after all the data.
      std::vector<const schema::PostDataItem *> now;
      for (const schema::PostDataItem *fk : fks)
        if (is_ready(*fk->table) && is_ready(*fk->references)) now.push_back(fk);
      if (!now.empty() && !stopping() && ledger_.try_lock_post_data(c)) {
        std::vector<const schema::PostDataItem *> items = post_.missing_on_target(c, now);
        auto t0 = std::chrono::steady_clock::now();
        schema::restore_items(ends_.target_conninfo, post_, items, jobs_, opt_, "foreign keys", &slot_, SETTINGS);
        ledger_.unlock_post_data(c);
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (const schema::PostDataItem *fk : items) {
          log::info("{}: foreign key {} checked while other data loads", fk->table->display(), fk->name);
          record(*fk->table, 1, s / static_cast<double>(items.size()));
        }
        std::erase_if(fks, [&](const schema::PostDataItem *fk) { return std::find(now.begin(), now.end(), fk) != now.end(); });
      }
      if (waiting.empty() && fks.empty()) break;
      if (wait_for_ranges_or_stop(seen)) break;
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
