#pragma once
// A subcommand: its CLI11 app (options registered, help text) and what runs
// when it was chosen. Each cmd_*.cpp makes one: parse -> jobs::run_X -> view
// -> print. main() only picks the chosen one and maps failures to exit codes.
#include <CLI/CLI.hpp>
#include <functional>

#include "pgcutover/cli/options.hpp"
#include "pgcutover/views/views.hpp"

namespace pgcutover::cli {

// What an interrupted run of a command leaves behind, as main() says it.
struct Interruption {
  std::string what;  // "the ranges in flight were rolled back on the target"
  std::string hint;  // what to do next, "" for nothing
};

struct Command {
  CLI::App *app = nullptr;
  std::function<int()> run;  // the exit code of a normal end; failures throw Error
  // Asked after SIGINT/SIGTERM ended the run (the options are parsed by then).
  std::function<Interruption()> interrupted;
};

Command copy_command(CLI::App &root, const CommonOptions &common);
Command plan_command(CLI::App &root, const CommonOptions &common);
Command load_command(CLI::App &root, const CommonOptions &common);
Command sync_command(CLI::App &root, const CommonOptions &common);
Command sequences_command(CLI::App &root, const CommonOptions &common);
Command verify_command(CLI::App &root, const CommonOptions &common);
Command rehearse_command(CLI::App &root, const CommonOptions &common);
Command bench_command(CLI::App &root, const CommonOptions &common);
Command finish_command(CLI::App &root, const CommonOptions &common);
Command traffic_command(CLI::App &root, const CommonOptions &common);

// Prints the view's JSON (--json) or its text (unless --quiet); returns exit_code.
int print(const views::View &view, const CommonOptions &common, int exit_code);
// A live progress line only on a terminal and without --json.
bool live_progress(const CommonOptions &common);

}  // namespace pgcutover::cli
