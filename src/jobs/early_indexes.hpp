#pragma once
// Indexes overlapped with the data (copy job internals): a background thread
// watches the ledger and, as soon as every range of a table the copy created
// is done, builds that table's own indexes and key constraints (pg_restore of
// its post-data items, `jobs` at a time) while other tables' ranges still
// load, and a foreign key between two such tables once both are ready (one
// build at a time by default, without parallel maintenance workers, so the
// ranges' sessions keep most of the CPU). What
// it has not built when the data is in is built by the job's
// finish, with the rest of the post-data. A failure here is only a warning:
// the finish builds the item again and stops with its error.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pgcutover/jobs/copy_job.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/endpoints.hpp"
#include "pgcutover/schema/post_data.hpp"
#include "pgcutover/util/subprocess.hpp"

namespace pgcutover::jobs {

class EarlyIndexes {
 public:
  // ranges_done: this process's count of ranges committed (the run's
  // progress); a change wakes the thread at once, so a table's builds start
  // within moments of its last range. Other processes' ranges are seen at the
  // next look at the ledger (every half second).
  EarlyIndexes(const pg::Endpoints &ends, const ledger::Ledger &ledger, const schema::PostData &post, int jobs,
               const schema::SchemaOptions &opt, const std::atomic<i64> &ranges_done);
  EarlyIndexes(const EarlyIndexes &) = delete;
  EarlyIndexes &operator=(const EarlyIndexes &) = delete;
  // Stops a pg_restore in flight (the run is failing or cancelled) and joins.
  ~EarlyIndexes();

  // The data is in: lets the table being built finish, builds nothing more,
  // joins, and returns what was built. Never throws.
  std::vector<EarlyBuild> finish();

 private:
  void run();
  void request_stop();
  void record(const sql::QualifiedName &table, int items, double seconds);
  bool wait_or_stop(std::chrono::milliseconds d);
  bool wait_for_ranges_or_stop(i64 &seen);

  const pg::Endpoints &ends_;
  const ledger::Ledger &ledger_;
  const schema::PostData &post_;
  int jobs_;
  const schema::SchemaOptions &opt_;
  const std::atomic<i64> &ranges_done_;
  util::ChildSlot slot_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<EarlyBuild> built_;
  std::thread thread_;
};

}  // namespace pgcutover::jobs
