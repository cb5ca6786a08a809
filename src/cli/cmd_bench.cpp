// pgcutover bench: copy strategies measured side by side on one table.
#include <fstream>

#include "pgcutover/cli/command.hpp"
#include "pgcutover/cli/setup.hpp"

namespace pgcutover::cli {

Command bench_command(CLI::App &root, const CommonOptions &common) {
  auto opt = std::make_shared<BenchOptions>();
  CLI::App *cmd = root.add_subcommand("bench", "measure copy strategies on one table, side by side");
  add_bench_options(*cmd, *opt);
  return {cmd, [opt, &common] {
            jobs::BenchConfig cfg = bench_config(*opt);
            report::Reporter reporter(false, common.quiet || common.json);
            strategy_bench::BenchResult res = jobs::run_bench(cfg);
            if (!opt->csv.empty()) std::ofstream(opt->csv) << views::bench_csv(res);
            if (!opt->svg.empty()) std::ofstream(opt->svg) << views::bench_svg(res);
            // The ranking is the point of the command: printed even with --quiet.
            return print(views::bench(res), {common.json, false, common.verbose}, 0);
          },
          [] { return Interruption{"the measurement in flight was stopped", "rerun the bench"}; }};
}

}  // namespace pgcutover::cli
