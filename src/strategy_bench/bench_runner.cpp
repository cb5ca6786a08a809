// pgcutover bench (see bench_runner.hpp).
#include "pgcutover/strategy_bench/bench_runner.hpp"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/sql/bench.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/sql/copy.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::strategy_bench {

namespace {

constexpr const char *SCRATCH_SCHEMA = "pgcutover_bench";

double cpu_now() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

i64 peak_rss_kb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  return 0;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// The scratch table: like the target's table when it has one, else built from
// the source's column types and key.
void create_scratch(pg::Connection &dst, const catalog::TableDef &t, const sql::QualifiedName &scratch, const Combo &c,
                    bool target_has_table) {
  dst.exec(sql::bench::create_schema(SCRATCH_SCHEMA));
  dst.exec(sql::drop_table(scratch));
  if (target_has_table) {
    dst.exec(sql::bench::create_like(scratch, t.name));
  } else {
    std::vector<std::string> types;
    for (const catalog::ColumnDef &col : t.columns) types.push_back(col.type);
    dst.exec(sql::bench::create_from_columns(scratch, t.column_names(), types, t.key));
  }
  if (c.toast != "default")
    for (const catalog::ColumnDef &col : t.columns) {
      try {  // only variable-length types take a compression method
        dst.exec(sql::bench::set_compression(scratch, col.name, c.toast));
      } catch (const Error &) {
      }
    }
}

plan::TablePlan table_plan(const catalog::TableDef &t, const Combo &c, const std::vector<plan::KeyRange> &ranges) {
  plan::TablePlan tp;
  tp.table = t;
  tp.target_exists = true;
  tp.format = c.format == "text" ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
  tp.ranges = ranges;
  bool direct = c.merge == "direct" || c.merge == "freeze";
  tp.strategy = direct ? merge::Strategy::Direct : merge::Strategy::Merge;
  tp.skip_unchanged = c.merge == "upsert-guard";
  return tp;
}

// The combination's write levers, into the scratch table.
pipeline::WriteOptions write_options(const sql::QualifiedName &scratch, const Combo &c) {
  pipeline::WriteOptions w;
  w.target_name = scratch;
  if (c.merge == "direct" || c.merge == "freeze") {
    w.truncate_and_freeze = c.merge == "freeze";
  } else {
    w.merge_sql = c.merge == "merge" ? pipeline::MergeSql::MergeStatement
                  : c.merge == "delete-insert" ? pipeline::MergeSql::DeleteInsert
                                               : pipeline::MergeSql::Upsert;
    w.unlogged_stage = c.staging == "unlogged";
  }
  return w;
}

void run_plan(const catalog::TableDef &t, const sql::QualifiedName &scratch, const Combo &c,
              const std::vector<plan::KeyRange> &ranges, const pg::SnapshotInfo &snap, const pg::Endpoints &ends,
              const std::string &spill_dir, report::RunReport &rep) {
  plan::Plan p;
  p.tables.push_back(table_plan(t, c, ranges));
  pipeline::PipelineOptions po;
  po.jobs = c.jobs;
  po.max_retries = 0;
  po.write = write_options(scratch, c);
  if (c.spill != "off") {
    po.spill_dir = spill_dir.empty() ? std::filesystem::temp_directory_path() / "pgcutover-bench-spill" : std::filesystem::path(spill_dir);
    po.spill_level = std::atoi(c.spill.c_str() + 4);
  }
  pipeline::run_pipeline(p, ends, snap, po, rep);
}

}  // namespace

std::string Combo::label() const {
  std::string l = fmt::format("jobs={} range={} {} spill={} {}", jobs, report::format_bytes(range_bytes), format, spill, merge);
  if (toast != "default") l += " toast=" + toast;
  if (merge != "direct" && merge != "freeze" && staging != "temp") l += " stage=" + staging;
  if (into != "empty") l += " into=" + into;
  return l;
}

std::vector<Combo> combinations(const std::vector<int> &jobs, const std::vector<i64> &range_bytes,
                                const std::vector<std::string> &formats, const std::vector<std::string> &spills,
                                const std::vector<std::string> &merges, const std::vector<std::string> &toasts,
                                const std::vector<std::string> &stagings, const std::vector<std::string> &intos) {
  std::vector<Combo> out;
  for (int j : jobs)
    for (i64 rb : range_bytes)
      for (const auto &f : formats)
        for (const auto &s : spills)
          for (const auto &m : merges)
            for (const auto &t : toasts)
              for (const auto &st : stagings) {
                if ((m == "direct" || m == "freeze") && st != stagings.front()) continue;  // no staging to vary
                for (const auto &in : intos) {
                  Combo c{j, rb, f, s, m, t, st, in};
                  out.push_back(c);
                }
              }
  return out;
}

BenchResult run_bench(const catalog::TableDef &table, pg::Connection &snap_conn, const pg::SnapshotInfo &snap,
                      const pg::Endpoints &ends, const BenchOptions &opt) {
  BenchResult res;
  res.combos = opt.combos;
  res.table_bytes = table.total_bytes();
  pg::Connection dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
  bool target_has_table =
      dst.query(sql::catalog::table_exists(), {table.name.schema, table.name.name}).get_bool(0, 0);

  // The same sampled ranges for every combination of one range size.
  std::map<i64, std::vector<plan::KeyRange>> ranges_by_size;
  for (const Combo &c : opt.combos) {
    if (ranges_by_size.count(c.range_bytes)) continue;
    plan::PlanOptions po;
    po.range_bytes = c.range_bytes;
    std::vector<plan::KeyRange> all = plan::plan_ranges(snap_conn, table, po), picked;
    size_t want = std::max<size_t>(1, static_cast<size_t>(std::ceil(static_cast<double>(all.size()) * opt.sample)));
    for (size_t i = 0; i < all.size() && picked.size() < want; i += std::max<size_t>(1, all.size() / want)) picked.push_back(all[i]);
    ranges_by_size[c.range_bytes] = picked;
  }

  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  size_t n = opt.combos.size();
  for (int round = 0; round < opt.repeat; ++round)
    for (size_t k = 0; k < n; ++k) {
      size_t ci = (k + static_cast<size_t>(round)) % n;  // the order rotates each round
      const Combo &c = opt.combos[ci];
      if (elapsed() > opt.max_seconds) {
        res.skipped.push_back(fmt::format("round {} of {}: --max-seconds {} reached", round + 1, c.label(), opt.max_seconds));
        continue;
      }
      cancel::throw_if_requested();
      Run run;
      run.combo = ci;
      run.round = round;
      sql::QualifiedName scratch{SCRATCH_SCHEMA, fmt::format("{}_{}", table.name.name.substr(0, 40), ci)};
      const std::vector<plan::KeyRange> &ranges = ranges_by_size[c.range_bytes];
      try {
        create_scratch(dst, table, scratch, c, target_has_table);
        if (c.into == "prefilled") {
          // The incremental case: the table already holds most rows (1 in 16 missing).
          report::RunReport fill;
          Combo direct = c;
          direct.merge = "direct";
          direct.spill = "off";
          run_plan(table, scratch, direct, ranges, snap, ends, opt.spill_dir, fill);
          dst.exec(sql::bench::thin_out(scratch, table.has_key() ? table.key : table.column_names()));
          dst.exec(sql::bench::vacuum_analyze(scratch));
        }
        if (c.merge == "freeze" && (ranges.size() != 1 || c.jobs != 1))
          throw_usage("COPY FREEZE needs the table truncated in the same transaction: one range (--sample or a larger "
                      "--range-bytes) and --jobs 1");
        std::string lsn = std::string(dst.exec(sql::bench::current_wal_lsn()).get(0, 0));
        reset_peak_rss();
        double cpu0 = cpu_now();
        report::RunReport rep;
        auto t0 = std::chrono::steady_clock::now();
        run_plan(table, scratch, c, ranges, snap, ends, opt.spill_dir, rep);
        run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        run.cpu_seconds = cpu_now() - cpu0;
        run.peak_rss_kb = peak_rss_kb();
        run.wal_bytes = dst.query(sql::bench::wal_bytes_since(), {lsn}).get_i64(0, 0);
        run.rows = rep.progress.rows.load();
        run.bytes = rep.progress.bytes.load();
        run.ok = true;
      } catch (const Error &e) {
        if (e.kind == ErrorKind::Cancelled) throw;
        run.ok = false;
        run.error = e.what();
        if (dst.broken()) dst = pg::Connection::open(ends.target_conninfo, ends.target_settings);
      }
      try {
        dst.exec(sql::drop_table(scratch));
      } catch (const Error &) {
      }
      log::info("{} round {}: {}", c.label(), round + 1,
                run.ok ? fmt::format("{:.2f}s, {:.1f} MB/s", run.seconds, run.bytes / 1e6 / std::max(run.seconds, 1e-9))
                       : "FAILED: " + run.error);
      res.runs.push_back(run);
    }
  dst.exec(sql::bench::drop_schema(SCRATCH_SCHEMA));
  return res;
}

std::vector<Summary> rank(const BenchResult &r) {
  std::vector<Summary> out;
  for (size_t i = 0; i < r.combos.size(); ++i) {
    Summary s;
    s.combo = i;
    std::vector<double> mb, rps, cpu, wal;
    for (const Run &run : r.runs) {
      if (run.combo != i) continue;
      if (!run.ok) {
        s.failed++;
        s.error = run.error;
        continue;
      }
      s.ok++;
      mb.push_back(run.bytes / 1e6 / std::max(run.seconds, 1e-9));
      rps.push_back(run.rows / std::max(run.seconds, 1e-9));
      cpu.push_back(run.cpu_seconds / std::max(run.seconds, 1e-9) * 100);
      wal.push_back(static_cast<double>(run.wal_bytes));
      s.rss = std::max(s.rss, run.peak_rss_kb);
    }
    s.mbps = median(mb);
    s.mbps_min = mb.empty() ? 0 : *std::min_element(mb.begin(), mb.end());
    s.mbps_max = mb.empty() ? 0 : *std::max_element(mb.begin(), mb.end());
    s.rows_per_s = median(rps);
    s.cpu = median(cpu);
    s.wal = median(wal);
    out.push_back(s);
  }
  // Ranked: working combinations by median MB/s, failed ones last (never "fast").
  std::stable_sort(out.begin(), out.end(), [](const Summary &a, const Summary &b) {
    bool ga = a.ok > 0 && a.failed == 0, gb = b.ok > 0 && b.failed == 0;
    if (ga != gb) return ga;
    return a.mbps > b.mbps;
  });
  return out;
}

}  // namespace pgcutover::strategy_bench
