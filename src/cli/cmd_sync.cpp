// pgcutover sync and sequences: the cutover's incremental step, and sequences
// brought forward on their own.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"

namespace pgcutover::cli {

Command sync_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<SyncOptions>();
  CLI::App *cmd = root.add_subcommand("sync", "copy what changed since the last copy or sync (the cutover's incremental step)");
  add_sync_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::SyncConfig cfg = sync_config(*opt);
            report::Reporter reporter(live_progress(common), common.quiet);
            report::RunReport rep;
            jobs::SyncResult res = jobs::run_sync(cfg, rep, reporter);
            return print(views::sync(res, rep), common, res.ok() ? 0 : 3);
          },
          [] {
            return Interruption{"the ranges in flight were rolled back on the target; ranges merged before stay, "
                                "each with its sync point",
                                "rerun the same command to resume"};
          }};
}

Command sequences_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<SequencesOptions>();
  CLI::App *cmd = root.add_subcommand("sequences", "bring every target sequence to where the source stands");
  add_sequences_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::Scope scope = scope_of(opt->conn, opt->sel);
            report::Reporter reporter(false, common.quiet);
            return print(views::sequences(jobs::run_sequences(scope)), common, 0);
          },
          [] {
            return Interruption{"sequences set before the signal stay set", "rerun the same command to set them all"};
          }};
}

}  // namespace pgcutover::cli
