// pgcutover: parse the command line, run one command, map failures to exit
// codes. The only place that exits.
//
// Exit codes: 0 ok; 1 failure; 2 usage (bad options, refused tables, schema
// mismatch); 3 differences found / plan refusals; 130 interrupted (SIGINT),
// 143 terminated (SIGTERM).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>

#include "pgcutover/cli/commands.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

using namespace pgcutover;

namespace {

// A password passed on the command line is overwritten in argv after parsing,
// so it does not stay visible in /proc/PID/cmdline or `ps`.
void scrub_argv(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string value = arg.rfind("--", 0) == 0 && eq != std::string::npos ? arg.substr(eq + 1) : arg;
    if (value.find('=') == std::string::npos && value.find("://") == std::string::npos) continue;
    try {
      pg::ConninfoView v = pg::parse_conninfo(value);
      if (v.password.empty()) continue;
      for (char *p = std::strstr(argv[i], v.password.c_str()); p; p = std::strstr(p, v.password.c_str()))
        std::memset(p, '*', v.password.size());
    } catch (...) {
    }
  }
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return 2;
    case ErrorKind::Cancelled: return cancel::signal_number() == 15 ? 143 : 130;
    default: return 1;
  }
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{"pgcutover: parallel PostgreSQL copy for cutovers inside an outage window"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("pgcutover ") + PGCUTOVER_VERSION);
  cli::CommonOptions common;
  auto add_common = [&](CLI::App *cmd) {
    cmd->add_flag("--json", common.json, "print the result as JSON on stdout; no live progress");
    cmd->add_flag("--quiet,-q", common.quiet, "only warnings and errors on stderr");
    cmd->add_flag("--verbose,-v", common.verbose, "more detail on stderr (-vv: every SQL statement)");
  };

  cli::CopyOptions copy_opt, plan_opt;
  cli::LoadOptions load_opt;
  cli::VerifyOptions verify_opt;
  cli::SyncOptions sync_opt;
  cli::SequencesOptions seq_opt;
  cli::BenchOptions bench_opt;
  cli::RehearseOptions rehearse_opt;
  CLI::App *copy = app.add_subcommand("copy", "copy tables (or a whole database) from source to target");
  cli::add_copy_options(*copy, copy_opt, false);
  add_common(copy);
  CLI::App *plan = app.add_subcommand("plan", "show what copy would do, without copying");
  cli::add_copy_options(*plan, plan_opt, true);
  plan->add_option("--config", plan_opt.config, "the sync config file, to show its per-table change columns");
  add_common(plan);
  CLI::App *load = app.add_subcommand("load", "load a kept spill folder into a target");
  cli::add_load_options(*load, load_opt);
  add_common(load);

  CLI::App *verify = app.add_subcommand("verify", "prove the target equals the source, range by range; --repair fixes it");
  cli::add_verify_options(*verify, verify_opt);
  add_common(verify);

  CLI::App *sync = app.add_subcommand("sync", "copy what changed since the last copy or sync (the cutover's incremental step)");
  cli::add_sync_options(*sync, sync_opt);
  add_common(sync);
  CLI::App *seqs = app.add_subcommand("sequences", "bring every target sequence to where the source stands");
  cli::add_sequences_options(*seqs, seq_opt);
  add_common(seqs);

  CLI::App *bench = app.add_subcommand("bench", "measure copy strategies on one table, side by side");
  cli::add_bench_options(*bench, bench_opt);
  add_common(bench);

  CLI::App *rehearse = app.add_subcommand("rehearse", "time the cutover's phases against an outage budget and write a report");
  cli::add_rehearse_options(*rehearse, rehearse_opt);
  add_common(rehearse);

  // Parse a copy, so the password in argv can be scrubbed before anything else runs.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::reverse(args.begin(), args.end());
  scrub_argv(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  }
  log::set_level(common.verbose >= 2 ? log::Level::Debug : common.verbose == 1 ? log::Level::Debug : log::Level::Info);
  cancel::install_signal_handlers();

  try {
    if (*verify) return cli::run_verify(verify_opt, common);
    if (*sync) return cli::run_sync(sync_opt, common);
    if (*seqs) return cli::run_sequences(seq_opt, common);
    if (*bench) return cli::run_bench(bench_opt, common);
    if (*rehearse) return cli::run_rehearse(rehearse_opt, common);
    if (*copy) return cli::run_copy(copy_opt, common);
    if (*plan) return cli::run_plan(plan_opt, common);
    if (*load) return cli::run_load(load_opt, common);
  } catch (const Error &e) {
    if (cancel::requested()) {
      // Whatever failed after the signal failed because of it.
      int sig = cancel::signal_number();
      std::fprintf(stderr,
                   "pgcutover: interrupted by %s: the ranges in flight were rolled back on the target\n"
                   "hint: rerun the same command to resume; finished ranges are kept and not copied again\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      return sig == SIGTERM ? 143 : 130;
    }
    std::fprintf(stderr, "pgcutover: error: %s\n", e.describe().c_str());
    return exit_code_for(e.kind);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "pgcutover: internal error: %s\nhint: this is a bug; please report it with the command line (without secrets)\n", e.what());
    return 1;
  }
  return 1;
}
