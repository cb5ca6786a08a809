// pgcutover verify: prove the target equals the source; --repair fixes it.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"

namespace pgcutover::cli {

Command verify_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<VerifyOptions>();
  CLI::App *cmd = root.add_subcommand("verify", "prove the target equals the source, range by range; --repair fixes it");
  add_verify_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::VerifyConfig cfg = verify_config(*opt);
            report::Reporter reporter(live_progress(common), common.quiet);
            report::RunReport rep;
            jobs::VerifyResult res = jobs::run_verify(cfg, rep, reporter);
            return print(views::verify(res, rep), common, res.ok ? 0 : 3);
          },
          [opt] {
            if (opt->repair)
              return Interruption{"the repairs in flight were rolled back on the target; repairs committed before stay",
                                  "rerun verify --repair to check and repair again"};
            return Interruption{"verify only reads: nothing was written", "rerun verify to check again"};
          }};
}

}  // namespace pgcutover::cli
