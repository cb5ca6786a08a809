// pgcutover rehearse: the cutover's phases timed against the outage budget,
// with report.json, report.md and report.html written whatever happens.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::cli {

Command rehearse_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<RehearseOptions>();
  CLI::App *cmd = root.add_subcommand("rehearse", "time the cutover's phases against an outage budget and write a report");
  add_rehearse_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::RehearseConfig cfg = rehearse_config(*opt);
            report::Reporter reporter(live_progress(common), common.quiet);
            report::RunReport rep;
            jobs::RehearseResult res = jobs::run_rehearse(cfg, rep, reporter);
            const pg::Endpoints &ends = cfg.sync.scope.ends;
            views::View v = views::rehearse(
                res, rep, pg::display_name(pg::parse_conninfo(ends.source_conninfo)),
                pg::display_name(pg::parse_conninfo(ends.target_conninfo)), cfg.config_path);
            rehearse::write_reports(opt->report_dir, v.json);
            if (res.failure) {
              log::error("rehearsal stopped; the report of what ran is in {}", opt->report_dir);
              throw *res.failure;
            }
            v.text += "\nreport: " + opt->report_dir + "/report.html (also report.md, report.json)\n";
            return print(v, common, res.verdict.go ? 0 : 3);
          },
          [] {
            return Interruption{"the phase in flight was stopped and its writes in flight rolled back on the rehearsal target",
                                "rerun the rehearsal"};
          }};
}

}  // namespace pgcutover::cli
