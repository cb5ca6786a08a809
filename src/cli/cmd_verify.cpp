// pgcutover verify, phase by phase: one snapshot on each side, the copy's
// ranges (from the ledger) or freshly sampled ones, every range digested on
// both sides in parallel, mismatches localised (full) and repaired (--repair),
// sequences checked, then a verdict per table. Exit 3 while differences remain.
#include <cstdio>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/sql/statements.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/report/progress.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/verify/sequences_check.hpp"
#include "pgcutover/verify/verifier.hpp"

namespace pgcutover::cli {

namespace {

// The ranges the copy used, if the ledger has them: one range list drives
// copy, verify and repair.
bool use_ledger_ranges(pg::Connection &dst, const CopyOptions &scope, plan::Plan &plan) {
  pg::Result r = dst.query(sql::misc::table_exists(),
                           {sql::quote_ident(scope.tool_schema) + ".ranges"});
  if (!r.get_bool(0, 0)) return false;
  std::string job = scope.job.empty() ? ledger::default_job_name(pg::display_name(pg::parse_conninfo(scope.source)), scope.tables) : scope.job;
  ledger::Ledger led(scope.tool_schema, job);
  std::optional<ledger::Job> j = led.load(dst);
  if (!j) return false;
  for (plan::TablePlan &tp : plan.tables) {
    std::vector<plan::KeyRange> ranges;
    for (const ledger::StoredRange &s : j->ranges)
      if (s.table == tp.table.name) ranges.push_back(s.range);
    if (ranges.empty()) return false;  // a table the job did not copy: plan all anew
    tp.ranges = std::move(ranges);
  }
  log::info("verifying by the ranges of job {}", job);
  return true;
}

std::string key_text(const plan::KeyBound &k) {
  std::string out;
  for (size_t i = 0; i < k.values.size(); ++i) out += (i ? ", " : "") + k.values[i];
  return k.values.size() == 1 ? out : "(" + out + ")";
}

}  // namespace

CommandOutcome verify_into(const VerifyOptions &vopt, const CommonOptions &common, report::RunReport &rep,
                           report::Reporter &reporter) {
  const CopyOptions &scope = vopt.scope;
  verify::VerifyOptions opt;
  opt.mode = verify::parse_mode(vopt.mode);
  opt.method = verify::parse_method(vopt.method);
  opt.repair = vopt.repair;
  opt.jobs = scope.jobs;
  pipeline::Endpoints ends = endpoints(scope);
  plan::BuildOptions bopt = build_options(scope);
  bopt.resume = true;  // no sampling, no strategy checks: verify only reads

  // One snapshot per side: writes after them never show as differences.
  pg::SnapshotHolder src(pg::Connection::open(scope.source, ends.source_settings));
  pg::SnapshotHolder dst(pg::Connection::open(scope.target, ends.target_settings));
  verify::SnapshotPair snaps{src.info(), dst.info()};
  rep.set("command", "verify");
  rep.set("mode", verify::to_string(opt.mode));
  rep.set("hash", verify::to_string(opt.method));
  rep.set("snapshots", {{"source", {{"id", snaps.source.id}, {"taken_at", snaps.source.taken_at}}},
                        {"target", {{"id", snaps.target.id}, {"taken_at", snaps.target.taken_at}}}});

  log::info("verifying as of {} on the source (snapshot {}) and {} on the target", snaps.source.taken_at,
            snaps.source.id, snaps.target.taken_at);

  plan::Plan plan;
  std::vector<std::string> missing_tables;  // tables the target lacks: differences by themselves
  {
    report::PhaseTimer t(rep, "plan_ranges");
    plan = plan::build_plan(src.conn(), dst.conn(), bopt);
    plan::check_refusals(plan);
    std::erase_if(plan.tables, [&](const plan::TablePlan &tp) {
      if (!tp.target_exists) missing_tables.push_back(tp.table.name.display());
      return !tp.target_exists;
    });
    rep.set("missing_tables", missing_tables);
    if (!use_ledger_ranges(dst.conn(), scope, plan)) {
      plan::PlanOptions po;
      po.range_bytes = bopt.ranges.range_bytes;
      for (plan::TablePlan &tp : plan.tables) tp.ranges = plan::plan_ranges(src.conn(), tp.table, po);
    }
  }

  std::vector<verify::RangeVerdict> verdicts;
  {
    report::PhaseTimer t(rep, opt.repair ? "verify_and_repair" : "verify");
    reporter.start_live(rep);
    try {
      verdicts = verify::run_verify(plan, ends, snaps, opt, rep);
    } catch (...) {
      reporter.stop_live();
      throw;
    }
    reporter.stop_live();
  }

  std::vector<verify::SequenceVerdict> seqs;
  {
    report::PhaseTimer t(rep, "check_sequences");
    std::vector<sql::QualifiedName> names;
    for (const plan::TablePlan &tp : plan.tables) names.push_back(tp.table.name);
    // Read sequences afresh on the target: a repair may have moved nothing, but
    // the verdict is about the target as it stands.
    pg::Connection live = pg::Connection::open(scope.target, ends.target_settings);
    seqs = verify::check_sequences(src.conn(), live, names, plan.whole_database, bopt.exclude_schemas);
  }

  // Verdicts per table.
  nlohmann::json tables = nlohmann::json::array();
  bool all_ok = missing_tables.empty();
  std::string text;
  i64 total_rows = 0, total_bytes = 0, planned = 0;
  for (const plan::TablePlan &tp : plan.tables) {
    i64 src_rows = 0, dst_rows = 0, bad = 0, missing = 0, extra = 0, different = 0;
    bool fixed = true;
    nlohmann::json mism = nlohmann::json::array();
    for (const verify::RangeVerdict &v : verdicts) {
      if (v.table != &tp) continue;
      src_rows += v.source.rows;
      dst_rows += v.target.rows;
      total_bytes += v.source.bytes;
      planned += v.range.planned_bytes;
      if (v.equal) continue;
      ++bad;
      if (!(v.repaired && v.equal_after_repair)) fixed = false;
      nlohmann::json keys = nlohmann::json::array();
      for (const verify::KeyDiff &d : v.diffs) {
        (d.kind == verify::DiffKind::Missing ? missing : d.kind == verify::DiffKind::Extra ? extra : different)++;
        nlohmann::json k = {{"key", d.key.values}, {"kind", verify::to_string(d.kind)}};
        if (!d.columns.empty()) k["columns"] = d.columns;
        keys.push_back(k);
      }
      mism.push_back({{"range", v.range.id}, {"bounds", v.range.describe()}, {"source_rows", v.source.rows},
                      {"target_rows", v.target.rows}, {"source_hash", v.source.hash}, {"target_hash", v.target.hash},
                      {"keys", keys}, {"keys_truncated", v.diffs_truncated}, {"repaired", v.repaired},
                      {"equal_after_repair", v.equal_after_repair}});
    }
    total_rows += src_rows;
    std::string status = bad == 0 ? "OK" : (opt.repair && fixed) ? "REPAIRED" : "DIFF";
    if (status == "DIFF") all_ok = false;
    tables.push_back({{"table", tp.table.name.display()}, {"status", status}, {"source_rows", src_rows},
                      {"target_rows", dst_rows}, {"ranges", tp.ranges.size()}, {"mismatched_ranges", bad},
                      {"missing", missing}, {"extra", extra}, {"different", different}, {"mismatches", mism}});
    text += fmt::format("{:<40} {:<8} rows {} / {}", tp.table.name.display(), status, src_rows, dst_rows);
    if (bad) {
      text += fmt::format("  ranges {}/{} differ", bad, tp.ranges.size());
      if (opt.mode == verify::Mode::Full || opt.repair)
        text += fmt::format(": {} missing, {} extra, {} different", missing, extra, different);
      for (const auto &m : mism)
        for (const auto &k : m["keys"]) {
          if (&k - &m["keys"][0] >= 5) break;
          text += "\n    " + k["kind"].get<std::string>() + " key " +
                  key_text(plan::KeyBound{k["key"].get<std::vector<std::string>>()});
          if (k.contains("columns")) {
            std::string cols;
            for (const auto &c : k["columns"]) cols += (cols.empty() ? "" : ", ") + c.get<std::string>();
            text += " (columns: " + cols + ")";
          }
        }
    }
    text += "\n";
  }
  for (const std::string &m : missing_tables) text += fmt::format("{:<40} {:<8} missing on the target\n", m, "DIFF");
  nlohmann::json sj = nlohmann::json::array();
  for (const verify::SequenceVerdict &s : seqs) {
    sj.push_back({{"sequence", s.sequence}, {"feeds", s.table}, {"source_value", s.source_value},
                  {"target_value", s.target_value}, {"column_max", s.column_max}, {"ok", s.ok}, {"problem", s.problem}});
    if (!s.ok) {
      all_ok = false;
      text += fmt::format("sequence {:<31} DIFF     source {} target {}: {}\n", s.sequence, s.source_value, s.target_value, s.problem);
    }
  }
  double secs = rep.now();
  rep.set("sequences", sj);
  rep.set("ok", all_ok);
  CommandOutcome out;
  out.json = rep.to_json();
  out.json.erase("ranges");
  out.json["tables"] = tables;  // the verdicts, not the copy-shaped table records
  out.json["totals"] = {{"rows", total_rows}, {"bytes_hashed", total_bytes}, {"table_bytes", planned}, {"seconds", secs},
                        {"mb_per_s", secs > 0 ? static_cast<double>(planned) / 1e6 / secs : 0.0}};
  out.text = text + fmt::format("{}: {} table(s), {} rows, {} of table data in {:.2f}s ({:.1f} MB/s), {} sequence(s) checked\n",
                                all_ok ? "OK" : "DIFFERENCES", plan.tables.size(), total_rows, report::format_bytes(planned),
                                secs, secs > 0 ? static_cast<double>(planned) / 1e6 / secs : 0.0, seqs.size());
  out.exit_code = all_ok ? 0 : 3;
  (void)common;
  return out;
}

int run_verify(const VerifyOptions &vopt, const CommonOptions &common) {
  report::Reporter reporter(!common.json, common.quiet);
  report::RunReport rep;
  return print_outcome(verify_into(vopt, common, rep, reporter), common);
}

}  // namespace pgcutover::cli
