#pragma once
// The commands. Each returns the process exit code for a normal end and throws
// Error for failures; main() maps those to exit codes.
#include <nlohmann/json.hpp>
#include <string>

#include "pgcutover/cli/options.hpp"
#include "pgcutover/report/model.hpp"
#include "pgcutover/report/progress.hpp"

namespace pgcutover::cli {

// A command's result as JSON and as text; the run_* wrappers print one of them.
struct CommandOutcome {
  int exit_code = 0;
  nlohmann::json json;
  std::string text;
};

// Prints the JSON (--json) or the text (unless --quiet); returns the exit code.
int print_outcome(const CommandOutcome &out, const CommonOptions &common);

int run_copy(const CopyOptions &opt, const CommonOptions &common);
// The bodies of sync and verify, recording into a report the caller owns
// (rehearse runs them as its phases).
CommandOutcome sync_into(const SyncOptions &opt, const CommonOptions &common, report::RunReport &rep,
                         report::Reporter &reporter);
CommandOutcome verify_into(const VerifyOptions &opt, const CommonOptions &common, report::RunReport &rep,
                           report::Reporter &reporter);
int run_plan(const CopyOptions &opt, const CommonOptions &common);
int run_load(const LoadOptions &opt, const CommonOptions &common);
int run_verify(const VerifyOptions &opt, const CommonOptions &common);
int run_sync(const SyncOptions &opt, const CommonOptions &common);
int run_bench(const BenchOptions &opt, const CommonOptions &common);
int run_rehearse(const RehearseOptions &opt, const CommonOptions &common);
int run_sequences(const SequencesOptions &opt, const CommonOptions &common);
// The copy's phases without the lock-timeout explanation wrapper; sync calls it for new tables.
int run_copy_phases(const CopyOptions &opt, const CommonOptions &common);

}  // namespace pgcutover::cli
