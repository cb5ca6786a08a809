// pgcutover copy, plan and load: the base copy, its dry run, and the load of
// a kept spill folder into another target.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"

namespace pgcutover::cli {

Command copy_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<CopyOptions>();
  CLI::App *cmd = root.add_subcommand("copy", "copy tables (or a whole database) from source to target");
  add_copy_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::CopyConfig cfg = copy_config(*opt);
            report::Reporter reporter(live_progress(common), common.quiet);
            report::RunReport rep;
            jobs::CopyResult res = jobs::run_copy(cfg, rep, reporter);
            return print(views::copy(res, rep), common, 0);
          },
          [] {
            return Interruption{"the ranges in flight were rolled back on the target",
                                "rerun the same command to resume; finished ranges are kept and not copied again"};
          }};
}

Command plan_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<PlanOptions>();
  CLI::App *cmd = root.add_subcommand("plan", "show what copy would do, without copying");
  add_plan_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::PlanConfig cfg = plan_config(*opt);
            report::Reporter reporter(false, common.quiet);
            jobs::PlanResult res = jobs::run_plan(cfg);
            return print(views::plan(res), common, res.ok() ? 0 : 3);
          },
          [] { return Interruption{"plan only reads: nothing was written", ""}; }};
}

Command load_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<LoadOptions>();
  CLI::App *cmd = root.add_subcommand("load", "load a kept spill folder into a target");
  add_load_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::LoadConfig cfg = load_config(*opt);
            report::Reporter reporter(live_progress(common), common.quiet);
            report::RunReport rep;
            jobs::LoadResult res = jobs::run_load(cfg, rep, reporter);
            return print(views::load(res, rep), common, 0);
          },
          [] {
            return Interruption{"the ranges in flight were rolled back on the target; ranges loaded before stay",
                                "rerun the same command to load the folder again"};
          }};
}

}  // namespace pgcutover::cli
