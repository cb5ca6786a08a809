// The traffic job:
//   connect   to the source; the generic writer reads its catalog and picks
//             the tables (those with a primary key)
//   write     one transaction every 1/rate seconds until the duration ends;
//             a writer that falls behind does not catch up in bursts: the
//             achieved rate says so
//   report    per table: updates, inserts, deletes, skips, rows changed
#include "pgcutover/jobs/traffic_job.hpp"

#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::jobs {

TrafficResult run_traffic(const TrafficConfig &cfg) {
  if (cfg.rate <= 0) throw_usage("--rate must be a positive number of transactions per second");
  if (cfg.seconds <= 0) throw_usage("--duration must be positive");
  if (cfg.mix.updates < 0 || cfg.mix.inserts < 0 || cfg.mix.deletes < 0 ||
      cfg.mix.updates + cfg.mix.inserts + cfg.mix.deletes <= 0)
    throw_usage("--mix takes three weights updates:inserts:deletes, not all zero");
  pg::Connection conn = pg::Connection::open(cfg.source_conninfo, cfg.source_settings);
  traffic::GenericWriter writer(conn, cfg.tables, cfg.exclude_schemas, cfg.change_column, cfg.mix, cfg.seed);
  for (const std::string &l : writer.left_out()) log::warn("traffic leaves out {}", l);

  TrafficResult out;
  out.rate = cfg.rate;
  using clock = std::chrono::steady_clock;
  const clock::time_point start = clock::now();
  const auto period = std::chrono::duration<double>(1.0 / cfg.rate);
  const auto end = start + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(cfg.seconds));
  clock::time_point next = start;
  while (clock::now() < end) {
    if (cancel::requested()) {
      out.stopped_early = true;
      break;
    }
    std::this_thread::sleep_until(next);
    if (clock::now() >= end) break;
    if (writer.step()) ++out.transactions;
    else ++out.skipped;
    next += std::chrono::duration_cast<clock::duration>(period);
    if (next < clock::now() - std::chrono::seconds(1)) next = clock::now();  // behind: no burst to catch up
  }
  out.seconds = std::chrono::duration<double>(clock::now() - start).count();
  out.achieved = out.seconds > 0 ? static_cast<double>(out.transactions) / out.seconds : 0;
  out.tables = writer.counts();
  out.left_out = writer.left_out();
  if (out.transactions == 0 && !out.stopped_early) {
    std::string why;
    for (const traffic::TableCounts &t : out.tables)
      if (!t.skip_reason.empty()) why += (why.empty() ? "" : "; ") + t.table + ": " + t.skip_reason;
    Error e(ErrorKind::Permanent, "traffic wrote nothing in " + fmt::format("{:.1f}s", out.seconds) +
                                      (why.empty() ? std::string() : " (" + why + ")"),
            "check the tables it picked (--table) and that they hold rows");
    if (!out.tables.empty()) e.table = out.tables.front().table;
    throw e;
  }
  return out;
}

}  // namespace pgcutover::jobs
