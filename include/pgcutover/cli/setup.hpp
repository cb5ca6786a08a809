#pragma once
// The edge: options as typed become the jobs' typed configs, once. Sizes,
// durations, time stamps, strategies, formats and names are parsed and
// checked here (throwing Usage with the option's name); jobs never see text
// options.
#include "pgcutover/cli/options.hpp"
#include "pgcutover/jobs/bench_job.hpp"
#include "pgcutover/jobs/copy_job.hpp"
#include "pgcutover/jobs/finish_job.hpp"
#include "pgcutover/jobs/load_job.hpp"
#include "pgcutover/jobs/plan_job.hpp"
#include "pgcutover/jobs/rehearse_job.hpp"
#include "pgcutover/jobs/sync_job.hpp"
#include "pgcutover/jobs/verify_job.hpp"

namespace pgcutover::cli {

jobs::Scope scope_of(const ConnectionOptions &conn, const SelectionOptions &sel);
jobs::CopyConfig copy_config(const CopyOptions &o);
jobs::PlanConfig plan_config(const PlanOptions &o);
jobs::LoadConfig load_config(const LoadOptions &o);
jobs::FinishConfig finish_config(const FinishOptions &o);
jobs::VerifyConfig verify_config(const VerifyOptions &o);
jobs::SyncConfig sync_config(const SyncOptions &o);
jobs::BenchConfig bench_config(const BenchOptions &o);
// Reads the rehearsal's TOML file; --budget overrides its budget.
jobs::RehearseConfig rehearse_config(const RehearseOptions &o);

}  // namespace pgcutover::cli
