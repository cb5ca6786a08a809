// pgcutover finish: after the cutover, remove pgcutover's own schema from the target.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"

namespace pgcutover::cli {

Command finish_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<FinishOptions>();
  CLI::App *cmd = root.add_subcommand(
      "finish", "after the cutover: remove pgcutover's schema (ledger, sync points) from the target");
  add_finish_options(*cmd, *opt);
  return {cmd,
          [opt, &common] {
            jobs::FinishResult res = jobs::run_finish(finish_config(*opt));
            return print(views::finish(res), common, 0);
          },
          [] {
            return Interruption{"nothing was removed (the removal is one transaction)", "run finish again"};
          }};
}

}  // namespace pgcutover::cli
