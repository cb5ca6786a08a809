// The verify job, phase by phase:
//   snapshots        one per side: writes after them are never differences
//   plan ranges      the copy job's ranges from the ledger, or sampled anew
//   verify           every range digested on both sides; full mode names
//                    keys and columns; --repair fixes them and verifies again
//   check sequences  on the target as it stands now
//   verdicts         per table
#include "pgcutover/jobs/verify_job.hpp"

#include <algorithm>
#include <functional>

#include "pgcutover/ledger/write_guard.hpp"

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/ledger/run_lock.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/diff/buckets.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::jobs {

const char *to_string(TableStatus s) {
  switch (s) {
    case TableStatus::Ok: return "OK";
    case TableStatus::Repaired: return "REPAIRED";
    case TableStatus::Different: return "DIFF";
  }
  return "?";
}

namespace {

// The ranges the copy used, if the ledger has them: one range list drives
// copy, verify and repair.
// A table whose text key the two servers order differently gets its one
// whole-table range from plan_anew: it is verified by buckets of its key
// (diff/buckets.hpp), not by ranges, which both servers would have to
// evaluate under COLLATE "C", one full scan per range.
bool use_ledger_ranges(pg::Connection &dst, const Scope &scope, plan::Plan &plan,
                       const std::function<std::vector<plan::KeyRange>(const plan::TablePlan &)> &plan_anew) {
  ledger::Ledger led(scope.tool_schema, scope.job_name());
  std::optional<ledger::Job> j = led.load_if_exists(dst);
  if (!j) return false;
  for (plan::TablePlan &tp : plan.tables) {
    std::vector<plan::KeyRange> ranges;
    for (const ledger::StoredRange &s : j->ranges)
      if (s.table == tp.table.name) ranges.push_back(s.range);
    if (ranges.empty()) return false;  // a table the job did not copy: plan all anew
    tp.ranges = std::move(ranges);
  }
  for (plan::TablePlan &tp : plan.tables)
    if (plan::has_source_order_ranges(tp) || diff::by_buckets(tp.table)) tp.ranges = plan_anew(tp);
  log::info("verifying by the ranges of job {}", led.job());
  return true;
}

TableVerdict verdict_of(const plan::TablePlan &tp, const std::vector<verify::RangeVerdict> &verdicts, bool repair,
                        VerifyResult &totals) {
  TableVerdict tv;
  tv.table = tp.table.name;
  tv.ranges = static_cast<i64>(tp.ranges.size());
  bool fixed = true;
  for (const verify::RangeVerdict &v : verdicts) {
    if (v.table != &tp) continue;
    tv.source_rows += v.source.rows;
    tv.target_rows += v.target.rows;
    totals.bytes_hashed += v.source.bytes;
    totals.table_bytes += v.range.planned_bytes;
    if (v.equal) continue;
    ++tv.mismatched_ranges;
    if (!(v.repaired && v.equal_after_repair)) fixed = false;
    for (const verify::KeyDiff &d : v.diffs)
      ++(d.kind == verify::DiffKind::Missing ? tv.missing : d.kind == verify::DiffKind::Extra ? tv.extra : tv.different);
    tv.mismatches.push_back(v);
    tv.mismatches.back().table = nullptr;
  }
  totals.rows += tv.source_rows;
  tv.status = tv.mismatched_ranges == 0 ? TableStatus::Ok : (repair && fixed) ? TableStatus::Repaired : TableStatus::Different;
  return tv;
}

}  // namespace

VerifyResult run_verify(const VerifyConfig &cfg, report::RunReport &rep, report::Reporter &reporter) {
  pg::Endpoints ends = cfg.scope.ends;
  verify::VerifyOptions opt;
  opt.mode = cfg.mode;
  opt.method = cfg.method;
  opt.repair = cfg.repair;
  opt.jobs = cfg.scope.jobs;
  plan::BuildOptions bopt = cfg.scope.build_options();
  bopt.resume = true;  // no sampling, no strategy checks: verify only reads
  VerifyResult out;
  out.mode = cfg.mode;
  out.method = cfg.method;
  out.repair = cfg.repair;
  double started = rep.now();

  {
    report::PhaseTimer t(rep, "check_endpoints");  // two short connections: timed like every other step
    pg::refuse_same_database(ends);
  }
  // One snapshot per side: writes after them never show as differences.
  // The source's in the caller's snapshot when it gives one (imported, its
  // holder kept open by the caller), else exported here.
  std::optional<pg::SnapshotHolder> src_holder;
  pg::SnapshotInfo src_info;
  if (cfg.source_snapshot) {
    src_info = *cfg.source_snapshot;  // imported by the readers below
    out.source_as_of = "the sync's snapshot (" + src_info.taken_at + ")";
  } else {
    src_holder.emplace(pg::Connection::open(ends.source_conninfo, ends.source_settings));
    src_info = src_holder->info();
    out.source_as_of = "a fresh snapshot (" + src_info.taken_at + ")";
  }
  pg::SnapshotHolder dst(pg::Connection::open(ends.target_conninfo, ends.target_settings));
  out.snapshots = {src_info, dst.info()};
  log::info("verifying as of {} on the source (snapshot {}) and {} on the target", out.snapshots.source.taken_at,
            out.snapshots.source.id, out.snapshots.target.taken_at);

  // Table-by-table reads on both sides go through readers whose locks go
  // every few tables (pg::SnapshotReader).
  pg::SnapshotReader src_reader(pg::Connection::open(ends.source_conninfo, ends.source_settings), src_info);
  pg::SnapshotReader dst_reader(pg::Connection::open(ends.target_conninfo, ends.target_settings), dst.info());
  bopt.between_tables = [&] {
    src_reader.between_tables();
    dst_reader.between_tables();
  };
  plan::Plan plan;
  {
    report::PhaseTimer t(rep, "plan_ranges");
    plan = plan::build_plan(src_reader.conn(), dst_reader.conn(), bopt);
    plan::check_refusals(plan);
    std::erase_if(plan.tables, [&](const plan::TablePlan &tp) {
      if (!tp.target_exists) out.missing_tables.push_back(tp.table.name);
      return !tp.target_exists;
    });
    plan::PlanOptions po;
    po.range_bytes = bopt.ranges.range_bytes;
    auto plan_anew = [&](const plan::TablePlan &tp) {
      // A key the servers order differently: verified whole, by buckets of
      // its key (or counted whole), never by ranges either server would scan whole.
      if (diff::by_buckets(tp.table))
        return std::vector<plan::KeyRange>{plan::KeyRange{0, std::nullopt, std::nullopt, tp.table.total_bytes()}};
      std::vector<plan::KeyRange> ranges = plan::plan_ranges(src_reader.conn(), tp.table, po);
      src_reader.between_tables();
      return ranges;
    };
    if (!use_ledger_ranges(dst.conn(), cfg.scope, plan, plan_anew))
      for (plan::TablePlan &tp : plan.tables) tp.ranges = plan_anew(tp);
  }

  // A repair writes: it takes the target's run lock (no sync, copy or other
  // repair beside it) before anything is compared.
  std::optional<ledger::RunLock> run_lock;
  if (cfg.repair) {
    pg::Connection c = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    ledger::Ledger(cfg.scope.tool_schema, "").ensure_tables(c);
    run_lock.emplace(ends.target_conninfo, ends.target_settings, cfg.scope.tool_schema, "verify --repair",
                     ledger::RunMode::Exclusive);
  }
  std::optional<ledger::TargetWriteGuard> guard;  // restores what it set aside, also when verify fails
  if (cfg.repair) {
    // Repairs apply rows as the source has them (no trigger, no foreign key
    // action), or verify stops here before comparing anything.
    std::vector<sql::QualifiedName> written;
    for (const plan::TablePlan &tp : plan.tables) written.push_back(tp.table.name);
    guard.emplace(ends, cfg.scope.tool_schema);
    pg::Connection probe = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    out.target_writes = guard->prepare(probe, written);
    ends.target_settings.replica_writes = out.target_writes.replica;
  }

  std::vector<verify::RangeVerdict> verdicts;
  {
    report::PhaseTimer t(rep, cfg.repair ? "verify_and_repair" : "verify");
    report::LiveProgress live(reporter, rep);
    verdicts = verify::run_verify(plan, ends, out.snapshots, opt, rep);
  }
  if (guard) {
    pg::Connection writer = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    guard->restore(writer);
  }

  std::vector<sql::QualifiedName> names;
  for (const plan::TablePlan &tp : plan.tables) names.push_back(tp.table.name);
  {
    report::PhaseTimer t(rep, "check_sequences");
    // Read sequences afresh on the target: the verdict is about the target as it stands.
    pg::Connection live = pg::Connection::open(ends.target_conninfo, ends.target_settings);
    const verify::SequenceBaseline *base = cfg.sequence_baseline ? &*cfg.sequence_baseline : nullptr;
    if (base) out.sequences_as_of = cfg.sequence_baseline_rule;
    out.sequences = verify::check_sequences(src_reader.conn(), live, names, plan.whole_database, bopt.exclude_schemas,
                                            base, [&] { src_reader.between_tables(); });
  }

  out.ok = out.missing_tables.empty();
  for (const plan::TablePlan &tp : plan.tables) {
    out.tables.push_back(verdict_of(tp, verdicts, cfg.repair, out));
    if (out.tables.back().status == TableStatus::Different) out.ok = false;
  }
  for (const verify::SequenceVerdict &s : out.sequences)
    if (!s.ok) out.ok = false;
  out.seconds = rep.now() - started;
  return out;
}

}  // namespace pgcutover::jobs
