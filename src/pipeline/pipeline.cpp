// The pipeline (see pipeline.hpp for the stages, the memory bound and who owns
// which connection).
//
// Blocking I/O and TBB: every stage body blocks in libpq, and a blocked body
// holds a TBB thread. TBB's default pool on a 2-core machine has 2 threads, so
// the arena is sized from --jobs (max_tokens + 1 threads under a matching
// global_control), not from the core count: the threads mostly wait, and the
// servers get the CPU.
#include "pgcutover/pipeline/pipeline.hpp"

#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <chrono>
#include <ctime>
#include <thread>

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pipeline/conn_pool.hpp"
#include "pgcutover/pipeline/parallel.hpp"
#include "pgcutover/pipeline/range_io.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/time.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::pipeline {

namespace {

// Adds table and range to an error leaving a stage: context is added once, here.
template <typename F>
auto with_context(const RangeTask &task, F &&body) {
  try {
    return body();
  } catch (Error &e) {
    if (cancel::requested() && e.kind != ErrorKind::Cancelled) {
      Error c(ErrorKind::Cancelled, "interrupted");
      c.table = task.table->table.name.display();
      c.range_id = task.range->id;
      throw c;
    }
    if (e.table.empty()) e.table = task.table->table.name.display();
    if (!e.range_id) e.range_id = task.range->id;
    if (task.ends) pg::explain_lock_timeout(e, *task.ends, {task.table->table.name});
    if (e.hint.empty() && e.kind != ErrorKind::Cancelled) {
      // "Fix the cause" only where the cause is one a user can fix: a server's
      // refusal, a full disk, a malformed stream from a server. Retries used up
      // on a lost connection want the servers back; a bug wants a report.
      switch (e.kind) {
        case ErrorKind::Transient:
        case ErrorKind::Unreachable:
          e.hint = "nothing of this range was committed; the retries are used up: when the servers are reachable "
                   "again, rerun the same command (it resumes)";
          break;
        case ErrorKind::Internal:
          e.hint = "nothing of this range was committed; this is a bug in pgcutover: please report it with this "
                   "message; rerunning the same command resumes the job";
          break;
        default:
          e.hint = "nothing of this range was committed; fix the cause and rerun the same command";
      }
    }
    throw;
  }
}

bool retryable(const Error &e) { return e.kind == ErrorKind::Transient || e.kind == ErrorKind::Unreachable; }

// Retries a range's body on transient failures, with exponential backoff. The
// body discards the connections that failed, so each attempt starts fresh (and
// a reconnect resolves the host name again).
template <typename F>
auto with_retries(const RangeTask &task, const PipelineOptions &opt, F &&body) {
  for (int attempt = 1;; ++attempt) {
    try {
      return body();
    } catch (Error &e) {
      if (!retryable(e) || cancel::requested()) throw;
      if (attempt > opt.max_retries) {
        if (opt.max_retries > 0)
          e.hint = "gave up after " + std::to_string(opt.max_retries) +
                   " retries; check the servers and the network, then rerun the same command (finished ranges are kept)";
        throw;
      }
      double delay = std::min(30.0, opt.retry_delay_seconds * static_cast<double>(1 << std::min(attempt - 1, 10)));
      log::warn("table {} range {}: {}; retry {}/{} in {:.1f}s", task.table->table.name.display(), task.range->id,
                e.what(), attempt, opt.max_retries, delay);
      for (double waited = 0; waited < delay && !cancel::requested(); waited += 0.05)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      cancel::throw_if_requested();
    }
  }
}


RangeHooks ledger_hooks(const PipelineOptions &opt, const RangeTask &task, const pg::SnapshotInfo &snapshot,
                        const std::string &started_at) {
  RangeHooks h;
  const ledger::Ledger *l = opt.ledger;
  if (l) h.claim = [l, &task](pg::Connection &c) { return l->claim(c, task.table->table.name, task.range->id); };
  if (l || opt.on_commit)
    h.before_commit = [l, &opt, &task, &snapshot, started_at](pg::Connection &c, const WriteResult &r) {
      if (l) l->mark_done(c, task.table->table.name, task.range->id, r.rows, r.bytes, snapshot, started_at);
      if (opt.on_commit) opt.on_commit(c, *task.table, *task.range, r);
    };
  return h;
}

// Turns Ctrl-C into query cancels on every leased connection, so blocked
// COPYs end now rather than at their next chunk. Also watches the snapshot
// holder, when given: once it is gone no new range can import the snapshot,
// so no new range starts (holder_lost), and the ranges in flight, whose
// readers imported it already, finish.
class CancelWatcher {
 public:
  CancelWatcher(ConnPool &a, ConnPool *b, const pg::SnapshotHolder *holder = nullptr)
      : thread_([this, &a, b, holder] {
          while (!done_.load()) {
            if (cancel::requested()) {
              a.cancel_all();
              if (b) b->cancel_all();
              return;
            }
            if (holder && !holder_lost.load() && holder->lost()) {
              log::error("the source session holding the snapshot (pid {}) is gone: no new range starts",
                         holder->info().holder_pid);
              holder_lost.store(true);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
          }
        }) {}
  std::atomic<bool> holder_lost{false};
  ~CancelWatcher() {
    done_.store(true);
    thread_.join();
  }

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

void record_done(RangeTask &task, const WriteResult &res, report::RunReport &report, std::atomic<i64> &done,
                 std::atomic<i64> &skipped) {
  if (res.skipped) {
    skipped.fetch_add(1);
    report.progress.ranges_done.fetch_add(1, std::memory_order_relaxed);
    report.progress.planned_done.fetch_add(task.range->planned_bytes, std::memory_order_relaxed);
    return;
  }
  done.fetch_add(1);
  task.record.rows = res.rows;
  task.record.bytes = res.bytes;
  task.record.merged = res.merged;
  task.record.appended = res.appended;
  task.record.end = report.now();
  report.progress.ranges_done.fetch_add(1, std::memory_order_relaxed);
  report.progress.planned_done.fetch_add(task.range->planned_bytes, std::memory_order_relaxed);
  report.progress.bytes_done.fetch_add(res.bytes, std::memory_order_relaxed);
  report.add_range(task.record);
}

std::vector<RangeTask> make_tasks(const plan::Plan &plan, const pg::Endpoints &ends, report::RunReport &report) {
  std::vector<RangeTask> tasks;
  for (const plan::TablePlan &tp : plan.tables) {
    report.set_table_meta(tp.table.name.display(), merge::to_string(tp.strategy), copybin::to_string(tp.format),
                          static_cast<i64>(tp.ranges.size()));
    for (const plan::KeyRange &r : tp.ranges) {
      RangeTask t;
      t.table = &tp;
      t.range = &r;
      t.record.table = tp.table.name.display();
      t.record.range_id = r.id;
      t.record.bounds = r.describe();
      t.record.planned_bytes = r.planned_bytes;
      t.ends = &ends;
      tasks.push_back(std::move(t));
      report.progress.ranges_total++;
      report.progress.planned_total += std::max<i64>(r.planned_bytes, 1);
    }
  }
  // Largest first, so the longest ranges do not start last and leave one job
  // running alone at the end.
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const RangeTask &a, const RangeTask &b) { return a.range->planned_bytes > b.range->planned_bytes; });
  return tasks;
}

int worker_id() { return std::max(0, tbb::this_task_arena::current_thread_index()); }

// With isolate_table_failures: the tables that failed, and why. A table is
// failed by its first range that fails for good; its later ranges never start.
class TableFailures {
 public:
  bool has(const std::string &table) {
    std::lock_guard<std::mutex> lk(mu_);
    return std::any_of(list_.begin(), list_.end(), [&](const TableFailure &f) { return f.table == table; });
  }
  void add(const std::string &table, const Error &e) {
    std::string msg = e.what();
    if (e.range_id) msg = "range " + std::to_string(*e.range_id) + ": " + msg;
    if (!e.hint.empty()) msg += " (" + e.hint + ")";
    std::lock_guard<std::mutex> lk(mu_);
    if (std::none_of(list_.begin(), list_.end(), [&](const TableFailure &f) { return f.table == table; })) {
      log::error("{}: {}; the table is left as it was before this range, the other tables go on", table, msg);
      list_.push_back({table, msg});
    }
  }
  std::vector<TableFailure> list() {
    std::lock_guard<std::mutex> lk(mu_);
    return list_;
  }

 private:
  std::mutex mu_;
  std::vector<TableFailure> list_;
};

// A failure that ends the table alone (isolate_table_failures), not the run.
bool table_alone(const Error &e, const PipelineOptions &opt) {
  return opt.isolate_table_failures && !cancel::requested() && e.kind != ErrorKind::Cancelled && !retryable(e);
}

// The ranges that failed alone on a unique violation, merged in one
// transaction (see merge_together); a violation left then is a real one.
void merge_deferred(std::vector<RangeTask *> &tasks, ConnPool &sources, ConnPool &targets, const PipelineOptions &opt,
                    const pg::SnapshotInfo &snapshot, report::RunReport &report, std::atomic<i64> &done,
                    std::atomic<i64> &skipped) {
  std::vector<TogetherRange> ranges;
  std::string names;
  for (RangeTask *t : tasks) {
    ranges.push_back({t->table, t->range});
    names += (names.empty() ? "" : ", ") + t->table->table.name.display() + " range " + std::to_string(t->range->id);
  }
  log::info("merging {} range(s) together in one transaction: {}", tasks.size(), names);
  std::string started_at = util::format_iso(util::now());
  auto src = sources.acquire();
  auto dst = targets.acquire();
  try {
    std::vector<WriteResult> res = merge_together(
        *src, *dst, ranges, opt.chunk_bytes, report.progress,
        [&](pg::Connection &c, size_t i, const WriteResult &r) {
          RangeHooks h = ledger_hooks(opt, *tasks[i], snapshot, started_at);
          if (h.before_commit) h.before_commit(c, r);
        });
    for (size_t i = 0; i < tasks.size(); ++i) {
      tasks[i]->record.start = report.now();
      record_done(*tasks[i], res[i], report, done, skipped);
    }
    src.renew_snapshot(snapshot.id);  // its locks go: thousands of tables, a few locks per session
  } catch (Error &e) {
    src.discard();
    dst.discard();
    if (e.sqlstate == "23505")
      e.hint = "a row the source has collides on a unique constraint with a target row this sync does not change "
               "(" + names + "); run verify --mode full --repair, or sync with --deletes detect, then sync again";
    throw;
  }
}
// Without --keep-spill, a spill file lives only until its range is loaded:
// after a failure or an interrupt, the files written and not loaded yet are
// removed too (they hold table data), whichever way run_pipeline ends. Only
// files this process claimed (spill/claim.hpp): another process sharing the
// folder keeps its own.
class SpillCleanup {
 public:
  SpillCleanup(std::vector<RangeTask> &tasks, bool active) : tasks_(tasks), active_(active) {}
  SpillCleanup(const SpillCleanup &) = delete;
  SpillCleanup &operator=(const SpillCleanup &) = delete;
  ~SpillCleanup() {
    if (!active_) return;
    for (RangeTask &t : tasks_) {
      if (!t.spill_claim.held()) continue;
      if (std::error_code ec = t.spill_claim.remove())
        log::warn("cannot remove the spill file {}: {}", t.spill_path.string(), ec.message());
    }
  }

 private:
  std::vector<RangeTask> &tasks_;
  bool active_;
};

// Writers: the target's settings plus the pipeline's commit and TOAST choices.
pg::SessionSettings writer_settings(const pg::Endpoints &ends, const PipelineOptions &opt) {
  pg::SessionSettings s = ends.target_settings;
  s.async_commit = opt.async_commit;
  s.toast_compression = opt.toast_compression;
  return s;
}

// After the last range: one synchronous commit, so that every range the
// writers committed without waiting for the WAL flush is durable before the
// job records anything further or says it is done.
void make_durable(ConnPool &targets, const PipelineOptions &opt) {
  if (!opt.async_commit) return;
  auto dst = targets.acquire();
  try {
    pg::make_durable(*dst);
  } catch (...) {
    dst.discard();
    throw;
  }
}

}  // namespace

PipelineResult run_pipeline(const plan::Plan &plan, const pg::Endpoints &ends, const pg::SnapshotInfo &snapshot,
                            const PipelineOptions &opt, report::RunReport &report) {
  std::vector<RangeTask> tasks = make_tasks(plan, ends, report);
  std::atomic<i64> n_done{0}, n_skipped{0};
  if (tasks.empty()) return {};
  int jobs = std::max(1, opt.jobs);
  bool spill = opt.spill_dir.has_value();
  if (spill) std::filesystem::create_directories(*opt.spill_dir);
  SpillCleanup cleanup(tasks, spill && !opt.keep_spill);  // destroyed after the pools and the arena's work

  ConnPool sources(
      [&] {
        pg::Connection c = pg::Connection::open(ends.source_conninfo, ends.source_settings);
        pg::pin_reader(c);
        pg::import_snapshot(c, snapshot);
        return c;
      },
      jobs);
  pg::SessionSettings writer = writer_settings(ends, opt);
  ConnPool targets([&] { return pg::Connection::open(ends.target_conninfo, writer); }, jobs);
  CancelWatcher watcher(sources, &targets, opt.holder);

  size_t max_tokens = static_cast<size_t>(spill ? 2 * jobs : jobs);
  int threads = static_cast<int>(max_tokens) + 1;
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<size_t>(threads));
  tbb::task_arena arena(threads);
  std::atomic<size_t> next{0};
  std::mutex together_mu;
  std::vector<RangeTask *> together;  // ranges that failed alone on a unique value another range moves
  std::string source_display = ends.source_settings.role;
  TableFailures failures;

  try {
  arena.execute([&] {
    tbb::parallel_pipeline(
        max_tokens,
        tbb::make_filter<void, RangeTask *>(tbb::filter_mode::serial_in_order,
                                            [&](tbb::flow_control &fc) -> RangeTask * {
                                              size_t i = next.fetch_add(1);
                                              if (i >= tasks.size() || cancel::requested() ||
                                                  watcher.holder_lost.load()) {
                                                fc.stop();
                                                return nullptr;
                                              }
                                              return &tasks[i];
                                            }) &
            tbb::make_filter<RangeTask *, RangeTask *>(
                tbb::filter_mode::parallel,
                [&](RangeTask *task) -> RangeTask * {
                  const std::string table_name = task->table->table.name.display();
                  if (opt.isolate_table_failures && failures.has(table_name)) return task;  // not started
                  try {
                  return with_context(*task, [&] {
                    cancel::throw_if_requested();
                    task->record.start = report.now();
                    task->record.worker = worker_id();
                    std::string started_at = util::format_iso(util::now());
                    try {
                    return with_retries(*task, opt, [&] {
                    auto src = sources.acquire();
                    try {
                      if (!spill) {
                        auto dst = targets.acquire();
                        try {
                          WriteResult res = transfer_range(*src, *dst, *task->table, *task->range, opt.chunk_bytes,
                                                           report.progress, ledger_hooks(opt, *task, snapshot, started_at), opt.write);
                          record_done(*task, res, report, n_done, n_skipped);
                        } catch (...) {
                          dst.discard();
                          throw;
                        }
                      } else {
                        task->spill_path = *opt.spill_dir / spill_file_name(*task->table, *task->range);
                        nlohmann::json meta = spill_meta(*task->table, *task->range, snapshot, src->display_name());
                        spill_range(*src, *task->table, *task->range, task->spill_path, meta, opt.spill_level,
                                    opt.chunk_bytes, &task->record.spill_bytes, &task->spill_claim);
                        if (opt.keep_spill) task->spill_claim.keep_on_hard_exit();
                      }
                    } catch (...) {
                      // The source transaction is aborted after any error: never reuse it.
                      src.discard();
                      throw;
                    }
                    src.renew_snapshot(snapshot.id);  // its locks go: thousands of tables, a few locks per session
                    return task;
                    });
                    } catch (const Error &e) {
                      if (!opt.together_on_unique_conflict || spill || e.sqlstate != "23505" || cancel::requested()) throw;
                      // A unique value still held on the target by a row of another range.
                      log::info("table {} range {}: a unique value it takes is still held by another row on the target; "
                                "merged together with the other such ranges at the end",
                                task->table->table.name.display(), task->range->id);
                      std::lock_guard<std::mutex> lk(together_mu);
                      together.push_back(task);
                      return task;
                    }
                  });
                  } catch (Error &e) {
                    if (!table_alone(e, opt)) throw;
                    failures.add(table_name, e);
                    return task;
                  }
                }) &
            tbb::make_filter<RangeTask *, void>(tbb::filter_mode::parallel, [&](RangeTask *task) {
              if (!spill) return;
              const std::string table_name = task->table->table.name.display();
              if (opt.isolate_table_failures && failures.has(table_name)) return;
              try {
              with_context(*task, [&] {
                cancel::throw_if_requested();
                std::string started_at = util::format_iso(util::now());
                with_retries(*task, opt, [&] {
                  auto dst = targets.acquire();
                  try {
                    WriteResult res = load_spill(*dst, *task->table, task->spill_path, opt.chunk_bytes,
                                                 report.progress, ledger_hooks(opt, *task, snapshot, started_at),
                                                 opt.write);
                    record_done(*task, res, report, n_done, n_skipped);
                  } catch (...) {
                    dst.discard();
                    throw;
                  }
                  return 0;
                });
                if (!opt.keep_spill)
                  if (std::error_code ec = task->spill_claim.remove())
                    log::warn("cannot remove the spill file {}: {}", task->spill_path.string(), ec.message());
                return 0;
              });
              } catch (Error &e) {
                if (!table_alone(e, opt)) throw;
                failures.add(table_name, e);
              }
            }));
  });
  } catch (const Error &) {
    if (watcher.holder_lost.load() && !cancel::requested()) throw pg::snapshot_lost(snapshot);
    throw;
  }
  cancel::throw_if_requested();
  if (watcher.holder_lost.load()) throw pg::snapshot_lost(snapshot);
  std::erase_if(together, [&](RangeTask *t) { return failures.has(t->table->table.name.display()); });
  if (!together.empty()) {
    try {
      merge_deferred(together, sources, targets, opt, snapshot, report, n_done, n_skipped);
    } catch (Error &e) {
      if (!table_alone(e, opt)) throw;
      // Merged table by table, so that the table at fault fails alone.
      std::map<std::string, std::vector<RangeTask *>> by_table;
      for (RangeTask *t : together) by_table[t->table->table.name.display()].push_back(t);
      for (auto &[name, group] : by_table) {
        try {
          merge_deferred(group, sources, targets, opt, snapshot, report, n_done, n_skipped);
        } catch (Error &ge) {
          if (!table_alone(ge, opt)) throw;
          if (ge.table.empty()) ge.table = name;
          failures.add(name, ge);
        }
      }
    }
  }
  make_durable(targets, opt);
  return {n_done.load(), n_skipped.load(), failures.list()};
}

bool PipelineResult::failed(const std::string &table) const {
  return std::any_of(failed_tables.begin(), failed_tables.end(), [&](const TableFailure &f) { return f.table == table; });
}

void load_spill_files(const std::vector<SpillItem> &items, const pg::Endpoints &ends, const PipelineOptions &opt,
                      report::RunReport &report) {
  std::atomic<i64> n_done{0}, n_skipped{0};
  std::vector<RangeTask> tasks;
  for (const SpillItem &it : items) {
    RangeTask t;
    t.table = it.table;
    t.range = it.range;
    t.spill_path = it.path;
    t.record.table = it.table->table.name.display();
    t.record.range_id = it.range->id;
    t.record.bounds = it.range->describe();
    t.record.planned_bytes = it.range->planned_bytes;
    t.ends = &ends;
    tasks.push_back(std::move(t));
    report.progress.ranges_total++;
    report.progress.planned_total += std::max<i64>(it.range->planned_bytes, 1);
  }
  int jobs = std::max(1, opt.jobs);
  pg::SessionSettings writer = writer_settings(ends, opt);
  ConnPool targets([&] { return pg::Connection::open(ends.target_conninfo, writer); }, jobs);
  CancelWatcher watcher(targets, nullptr);
  run_each(tasks, jobs, [&](RangeTask &task) {
    with_context(task, [&] {
      task.record.start = report.now();
      task.record.worker = worker_id();
      auto dst = targets.acquire();
      try {
        WriteResult res = load_spill(*dst, *task.table, task.spill_path, opt.chunk_bytes, report.progress, {}, opt.write);
        record_done(task, res, report, n_done, n_skipped);
      } catch (...) {
        dst.discard();
        throw;
      }
      return 0;
    });
  });
  make_durable(targets, opt);
}

}  // namespace pgcutover::pipeline
