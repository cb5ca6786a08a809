#pragma once
// The commands. Each returns the process exit code for a normal end and throws
// Error for failures; main() maps those to exit codes.
#include "pgcutover/cli/options.hpp"

namespace pgcutover::cli {

int run_copy(const CopyOptions &opt, const CommonOptions &common);
int run_plan(const CopyOptions &opt, const CommonOptions &common);
int run_load(const LoadOptions &opt, const CommonOptions &common);
int run_verify(const VerifyOptions &opt, const CommonOptions &common);

}  // namespace pgcutover::cli
