// pgcutover sync, phase by phase: snapshot, schema drift (added columns
// applied, new tables created and base-copied, blocking drift reported), the
// change method and watermark of each table, the changed rows merged range by
// range with the new watermark committed alongside, deletes (if asked), and
// sequences on the final sync.
#include <cstdio>
#include <map>
#include <set>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/sequences/sequences.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/sync/change_column.hpp"
#include "pgcutover/sync/deletes.hpp"
#include "pgcutover/sync/drift.hpp"
#include "pgcutover/sync/watermark.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

namespace {

// ISO 8601 UTC text minus a duration, computed by the server (exact, any format it reads).
std::string minus(pg::Connection &c, const std::string &iso, i64 ms) {
  return std::string(c.query(sql::misc::minus_ms(), {iso, std::to_string(ms)}).get(0, 0));
}

// Ranges for a table's changed rows, so a large change set runs in parallel.
// Indexed change column: cut the changed rows themselves at key quantiles (the
// changes are often bunched at the end of the key space, so ranges of the whole
// table would not share them out). Scanning methods: ranges of the whole table,
// which split the scan.
std::vector<plan::KeyRange> change_ranges(pg::Connection &src, const plan::TablePlan &tp, const sync::ChangeMethod &m,
                                          i64 range_bytes, int jobs) {
  const catalog::TableDef &t = tp.table;
  std::vector<plan::KeyRange> whole = {plan::KeyRange{0, std::nullopt, std::nullopt, t.total_bytes()}};
  if (m.scans) {
    plan::PlanOptions po;
    po.range_bytes = range_bytes;
    return plan::plan_ranges(src, t, po);
  }
  i64 changed = src.exec(sql::sync::count_where(t.name, tp.filter)).get_i64(0, 0);
  double row_bytes = static_cast<double>(t.total_bytes()) / std::max(1.0, t.reltuples);
  i64 est = static_cast<i64>(static_cast<double>(changed) * row_bytes);
  // Past a few MB the merge is worth splitting over the jobs even when the
  // change set is far below one range (perf/RESULTS.md, "sync": one range was
  // 1.19x the hand-made maneuver, three ranges 0.80x).
  i64 n = std::max<i64>(plan::range_count(est, range_bytes), est > (4 << 20) ? jobs : 1);
  if (n <= 1) return whole;
  pg::Result q = src.exec(sql::verify::key_quantiles(t.name, {t.key, t.key_types}, whole[0], std::max<i64>(1, changed / n), tp.filter));
  std::vector<plan::KeyRange> out;
  std::optional<plan::KeyBound> lower;
  for (int i = 0; i < q.rows() && static_cast<i64>(out.size()) < n - 1; ++i) {
    plan::KeyBound b;
    for (int j = 0; j < q.columns() - 1; ++j) b.values.emplace_back(q.get(i, j));
    out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, b, 0});
    lower = b;
  }
  out.push_back(plan::KeyRange{static_cast<i64>(out.size()), lower, std::nullopt, 0});
  return out;
}

std::vector<std::string> quoted_names(const std::vector<sql::QualifiedName> &names) {
  std::vector<std::string> out;
  for (const auto &n : names) out.push_back(n.quoted());
  return out;
}

}  // namespace

CommandOutcome sync_into(const SyncOptions &sopt, const CommonOptions &common, report::RunReport &rep,
                         report::Reporter &reporter) {
  const CopyOptions &scope = sopt.scope;
  pipeline::Endpoints ends = endpoints(scope);
  plan::BuildOptions bopt = build_options(scope);
  if (sopt.deletes != "off" && sopt.deletes != "detect") throw_usage("--deletes takes off or detect");
  i64 overlap_ms = util::parse_duration_ms(sopt.overlap);
  std::map<std::string, sync::TableConfig> config = sync::load_config(sopt.config);

  pg::Connection dst = pg::Connection::open(scope.target, ends.target_settings);
  check_target_writable(dst);
  ledger::Ledger(scope.tool_schema, "").ensure_tables(dst);
  rep.set("command", "sync");

  // Drift first: added columns are applied and new tables copied before the
  // snapshot of the changed rows, so they are part of this sync.
  std::vector<sync::Drift> drift;
  std::set<sql::QualifiedName> blocked;
  {
    report::PhaseTimer t(rep, "schema_drift");
    pg::Connection src = pg::Connection::open(scope.source, ends.source_settings);
    catalog::Catalog sc = catalog::load_catalog(src, bopt.exclude_schemas);
    catalog::Catalog dc = catalog::load_catalog(dst, bopt.exclude_schemas);
    std::vector<catalog::TableDef> selected = catalog::select_tables(sc, bopt.tables);
    drift = sync::find_drift(sc, dc, selected);
    std::vector<sql::QualifiedName> new_tables;
    for (const sync::Drift &d : drift) {
      if (d.kind == sync::DriftKind::NewTable) new_tables.push_back(d.table);
      if (d.kind == sync::DriftKind::AddedColumn) {
        const catalog::ColumnDef *c = sc.find(d.table)->find_column(d.column);
        log::info("{}: adding column \"{}\" {} on the target", d.table.display(), d.column, d.detail);
        dst.exec(sql::sync::add_column(d.table, c->name, c->type, c->default_expr, c->not_null));
      }
      if (d.blocking) {
        blocked.insert(d.table);
        log::warn("{}: column \"{}\" {}", d.table.display(), d.column, d.detail);
      }
    }
    if (!new_tables.empty()) {
      log::info("{} new table(s) on the source: creating and copying them", new_tables.size());
      CopyOptions copy = scope;
      copy.tables = quoted_names(new_tables);
      copy.job = "";
      CommonOptions quiet = common;
      quiet.json = false;
      quiet.quiet = true;
      run_copy_phases(copy, quiet);
    }
  }

  // One snapshot for every changed row this sync reads.
  pg::SnapshotHolder snap(pg::Connection::open(scope.source, ends.source_settings));
  const pg::SnapshotInfo &si = snap.info();
  rep.set("snapshot", {{"id", si.id}, {"taken_at", si.taken_at}, {"xmin", si.xmin}});
  log::info("syncing changes up to {} (snapshot {})", si.taken_at, si.id);

  plan::Plan plan;
  std::vector<std::string> refused;
  nlohmann::json table_info = nlohmann::json::object();
  {
    report::PhaseTimer t(rep, "plan_changes");
    bopt.resume = true;  // no sampling: ranges come from the copy or cover the whole table
    plan = plan::build_plan(snap.conn(), dst, bopt);
    for (const plan::Refusal &r : plan.refused) refused.push_back(r.table + ": " + r.reason);
    std::vector<plan::TablePlan> keep;
    for (plan::TablePlan &tp : plan.tables) {
      const sql::QualifiedName &name = tp.table.name;
      if (blocked.count(name)) {
        refused.push_back(name.display() + ": schema drift (see above); the table was left untouched");
        continue;
      }
      if (!tp.table.has_key()) {
        refused.push_back(name.display() + ": no primary key: changed rows cannot be merged");
        continue;
      }
      std::optional<sync::Watermark> wm = sync::read_watermark(dst, scope.tool_schema, name);
      if (!wm) {
        if (!sopt.copy_uncopied) {
          refused.push_back(name.display() + ": never copied (no watermark); copy it first, or pass --copy-uncopied");
          continue;
        }
        CopyOptions copy = scope;
        copy.tables = {name.quoted()};
        CommonOptions quiet = common;
        quiet.json = false;
        quiet.quiet = true;
        run_copy_phases(copy, quiet);
        continue;  // the copy was taken after this snapshot: it is complete up to a later point
      }
      auto cfg = config.find(name.display());
      sync::ChangeMethod m = sync::choose_change_method(
          tp.table, cfg == config.end() ? std::nullopt : std::optional<sync::TableConfig>(cfg->second));
      if (m.scans && !sopt.allow_scan) {
        refused.push_back(name.display() + ": " + m.reason + " (" + report::format_bytes(tp.table.total_bytes()) +
                          (tp.table.reltuples > 0 ? ", about " + std::to_string(static_cast<i64>(tp.table.reltuples)) + " rows" : "") +
                          "); rerun with --allow-scan, or index the change column on the source first" +
                          (m.column.empty() ? "" : " (CREATE INDEX CONCURRENTLY ON " + name.quoted() + " (" + sql::quote_ident(m.column) + "))"));
        continue;
      }
      std::string since = sopt.since == "auto" ? wm->point : sopt.since;
      std::string from = minus(dst, since, overlap_ms);
      if (m.kind == sync::ChangeKind::Xmin) {
        // The xmin detector needs the watermark's transaction id within 2^31 transactions.
        pg::Result age = snap.conn().query(sql::misc::xid_age(), {wm->xmin});
        if (age.get_i64(0, 0) > 2000000000) {
          refused.push_back(name.display() + ": the watermark is too many transactions old for xmin detection; copy the table again");
          continue;
        }
        tp.filter = sql::sync::xmin_predicate(wm->xmin);
      } else {
        tp.filter = sql::sync::since_predicate(m.column, from);
      }
      if (!m.warning.empty()) log::warn("{}: {}", name.display(), m.warning);
      tp.strategy = merge::Strategy::Merge;
      tp.strategy_reason = "sync: upsert, unchanged rows skipped";
      tp.skip_unchanged = true;
      tp.ranges = change_ranges(snap.conn(), tp, m, bopt.ranges.range_bytes, scope.jobs);
      table_info[name.display()] = {{"method", sync::to_string(m.kind)}, {"column", m.column}, {"reason", m.reason},
                                    {"warning", m.warning}, {"since", m.kind == sync::ChangeKind::Xmin ? "xmin " + wm->xmin : from},
                                    {"watermark", wm->point}};
      keep.push_back(std::move(tp));
    }
    plan.tables = std::move(keep);
  }

  // Changed rows, merged; each range commits its watermark part with its data.
  pipeline::PipelineOptions popt;
  popt.jobs = scope.jobs;
  popt.max_retries = scope.retries;
  const std::string part_prefix = "sync " + si.id + " r";
  popt.on_commit = [&](pg::Connection &c, const plan::TablePlan &tp, const plan::KeyRange &r, const pipeline::WriteResult &) {
    sync::write_watermark(c, scope.tool_schema, tp.table.name, part_prefix + std::to_string(r.id), {si.taken_at, si.xmin}, "sync");
  };
  {
    report::PhaseTimer t(rep, "sync_changes");
    reporter.start_live(rep);
    try {
      pipeline::run_pipeline(plan, ends, si, popt, rep);
    } catch (...) {
      reporter.stop_live();
      throw;
    }
    reporter.stop_live();
    for (const plan::TablePlan &tp : plan.tables)
      sync::commit_watermark(dst, scope.tool_schema, tp.table.name, {si.taken_at, si.xmin}, "sync");
  }

  // Deletes: a timestamp sync cannot see them.
  std::map<std::string, i64> deleted;
  if (sopt.deletes == "detect") {
    report::PhaseTimer t(rep, "detect_deletes");
    deleted = sync::delete_missing_rows(plan, ends, si, scope.jobs);
  }

  nlohmann::json seqs = nlohmann::json::array();
  if (sopt.final_sync) {
    report::PhaseTimer t(rep, "reset_sequences");
    std::vector<sql::QualifiedName> names;
    for (const plan::TablePlan &tp : plan.tables) names.push_back(tp.table.name);
    for (const auto &c : sequences::reset_sequences(snap.conn(), dst, names, plan.whole_database, bopt.exclude_schemas))
      seqs.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value}, {"new_value", c.new_value}});
  }

  // Summary.
  std::map<std::string, std::pair<i64, i64>> per_table;  // rows sent, rows merged
  for (const report::RangeRecord &r : rep.ranges()) {
    per_table[r.table].first += r.rows;
    per_table[r.table].second += std::max<i64>(r.merged, 0);
  }
  nlohmann::json tables = nlohmann::json::array();
  std::string text;
  for (const plan::TablePlan &tp : plan.tables) {
    std::string n = tp.table.name.display();
    nlohmann::json info = table_info[n];
    auto [sent, merged] = per_table[n];
    nlohmann::json row = info;
    row["table"] = n;
    row["rows_read"] = sent;
    row["rows_written"] = merged;
    row["deleted"] = sopt.deletes == "detect" ? nlohmann::json(deleted[n]) : nlohmann::json("not detected");
    tables.push_back(row);
    text += fmt::format("{:<40} {:<10} {:>9} read {:>9} written  {}  since {}\n", n, info["method"].get<std::string>(), sent,
                        merged, sopt.deletes == "detect" ? std::to_string(deleted[n]) + " deleted" : "deletes not detected",
                        info["since"].get<std::string>());
  }
  for (const sync::Drift &d : drift)
    text += fmt::format("drift: {} {} {} {}\n", d.table.display(), sync::to_string(d.kind), d.column, d.detail);
  for (const std::string &r : refused) text += "not synced: " + r + "\n";
  nlohmann::json dj = nlohmann::json::array();
  for (const sync::Drift &d : drift)
    dj.push_back({{"table", d.table.display()}, {"kind", sync::to_string(d.kind)}, {"column", d.column},
                  {"detail", d.detail}, {"blocking", d.blocking}});
  CommandOutcome out;
  out.json = rep.to_json();
  out.json["tables"] = tables;
  out.json["drift"] = dj;
  out.json["not_synced"] = refused;
  out.json["sequences"] = seqs;
  out.json["deletes"] = sopt.deletes == "detect" ? "detected" : "not detected: a timestamp sync cannot see deleted rows";
  out.text = text;
  if (sopt.deletes != "detect") out.text += "deletes are not seen by a timestamp sync: use --deletes detect\n";
  out.text += fmt::format("synced up to {} (snapshot {}){}\n", si.taken_at, si.id,
                          sopt.final_sync ? fmt::format("; {} sequence(s) set", seqs.size()) : "");
  out.exit_code = refused.empty() ? 0 : 3;
  (void)common;
  return out;
}

int run_sync(const SyncOptions &sopt, const CommonOptions &common) {
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  return print_outcome(sync_into(sopt, common, rep, reporter), common);
}

int run_sequences(const SequencesOptions &o, const CommonOptions &common) {
  report::Reporter reporter(false, common.quiet);
  plan::BuildOptions bopt = build_options(o.scope);
  pg::Connection src = pg::Connection::open(o.scope.source, session_settings("source", o.scope));
  pg::Connection dst = pg::Connection::open(o.scope.target, session_settings("target", o.scope));
  check_target_writable(dst);
  auto changes = sequences::reset_sequences(src, dst, bopt.tables, bopt.tables.empty(), bopt.exclude_schemas);
  nlohmann::json j = nlohmann::json::array();
  for (const auto &c : changes) {
    j.push_back({{"sequence", c.sequence}, {"table", c.table}, {"old_value", c.old_value}, {"old_is_called", c.old_called},
                 {"new_value", c.new_value}, {"new_is_called", c.new_called}});
    if (!common.json && !common.quiet)
      std::printf("%-40s %20lld -> %-20lld %s\n", c.sequence.c_str(), static_cast<long long>(c.old_value),
                  static_cast<long long>(c.new_value), c.table.c_str());
  }
  if (common.json) std::printf("%s\n", nlohmann::json{{"sequences", j}}.dump(2).c_str());
  return 0;
}

}  // namespace pgcutover::cli
