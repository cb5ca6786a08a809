#pragma once
// Views of the jobs' results: the JSON that --json prints and the text a
// person reads, one pair per result type, all here. A command's full JSON is
// the run report's (phases, tables, ranges, totals) with its result's keys on
// top. Views measure nothing and decide nothing: they only show.
#include <nlohmann/json.hpp>
#include <string>

#include "pgcutover/jobs/bench_job.hpp"
#include "pgcutover/jobs/copy_job.hpp"
#include "pgcutover/jobs/finish_job.hpp"
#include "pgcutover/jobs/load_job.hpp"
#include "pgcutover/jobs/plan_job.hpp"
#include "pgcutover/jobs/rehearse_job.hpp"
#include "pgcutover/jobs/sequences_job.hpp"
#include "pgcutover/jobs/sync_job.hpp"
#include "pgcutover/jobs/traffic_job.hpp"
#include "pgcutover/jobs/verify_job.hpp"
#include "pgcutover/report/model.hpp"

namespace pgcutover::views {

// What a command prints: the JSON for --json, the text otherwise.
struct View {
  nlohmann::json json;
  std::string text;
};

View copy(const jobs::CopyResult &r, const report::RunReport &rep);
View plan(const jobs::PlanResult &r);
View load(const jobs::LoadResult &r, const report::RunReport &rep);
View sync(const jobs::SyncResult &r, const report::RunReport &rep);
View verify(const jobs::VerifyResult &r, const report::RunReport &rep);
View sequences(const jobs::SequencesResult &r);
View finish(const jobs::FinishResult &r);
View traffic(const jobs::TrafficResult &r, const std::string &source);
View bench(const strategy_bench::BenchResult &r);
std::string bench_csv(const strategy_bench::BenchResult &r);  // every run
std::string bench_svg(const strategy_bench::BenchResult &r);  // median MB/s per combination
// The rehearsal's report document (report.json; report.md and report.html
// are drawn from it) and its text (report.md).
View rehearse(const jobs::RehearseResult &r, const report::RunReport &rep, const std::string &source, const std::string &target,
              const std::string &config_path);

// Pieces the views share.
nlohmann::json to_json(const pg::SnapshotInfo &s);
nlohmann::json to_json(const sync::Drift &d);
std::string drift_line(const sync::Drift &d);
// The tables the final sync will scan whole or refuse (above scan_below
// without --allow-scan), with size and estimated time; "" text when none.
// Materialized views refreshed and large objects copied (copy, final sync).
View nontables(const schema::MatviewResult &matviews, bool matviews_considered,
               const std::optional<schema::LargeObjectResult> &large_objects, i64 large_objects_left_out);
// `ahead`: said days before (plan, copy); else by the sync that did it.
View final_sync_scans(const std::vector<sync::FinalSyncScan> &scans, i64 scan_below, bool ahead = true);

}  // namespace pgcutover::views
