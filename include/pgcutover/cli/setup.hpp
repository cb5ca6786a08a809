#pragma once
// What copy and plan share: session settings, plan options from the command
// line, the target's read-only check, and plan printing.
#include <nlohmann/json.hpp>
#include <string>

#include "pgcutover/cli/options.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pipeline/pipeline.hpp"
#include "pgcutover/plan/plan.hpp"

namespace pgcutover::cli {

pg::SessionSettings session_settings(const std::string &role, const CopyOptions &opt);
// Source and target conninfo with their session settings.
pipeline::Endpoints endpoints(const CopyOptions &opt);
plan::BuildOptions build_options(const CopyOptions &opt);
// Refuses a target that cannot take writes (a standby, or read-only by default).
void check_target_writable(pg::Connection &dst);
nlohmann::json plan_to_json(const plan::Plan &plan);
std::string plan_to_text(const plan::Plan &plan);

}  // namespace pgcutover::cli
