#pragma once
// The commands. Each returns the process exit code for a normal end and throws
// Error for failures; main() maps those to exit codes.
#include "pgcutover/cli/options.hpp"

namespace pgcutover::cli {

int run_copy(const CopyOptions &opt, const CommonOptions &common);
int run_plan(const CopyOptions &opt, const CommonOptions &common);
int run_load(const LoadOptions &opt, const CommonOptions &common);
int run_verify(const VerifyOptions &opt, const CommonOptions &common);
int run_sync(const SyncOptions &opt, const CommonOptions &common);
int run_bench(const BenchOptions &opt, const CommonOptions &common);
int run_sequences(const SequencesOptions &opt, const CommonOptions &common);
// The copy's phases without the lock-timeout explanation wrapper; sync calls it for new tables.
int run_copy_phases(const CopyOptions &opt, const CommonOptions &common);

}  // namespace pgcutover::cli
