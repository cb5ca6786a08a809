#pragma once
// pg_dump / pg_restore as child processes (schema/ internals): the password
// goes through the environment, never argv, and out of error messages.
#include <string>
#include <utility>
#include <vector>

#include "pgcutover/schema/schema.hpp"
#include "pgcutover/util/subprocess.hpp"

namespace pgcutover::schema::detail {

// The conninfo without its password, plus the password as PGPASSWORD: the
// child's argv (visible to every user of the machine) never holds a secret.
struct ChildConn {
  std::string conninfo;
  std::vector<std::pair<std::string, std::string>> env;
  std::string display;
};

ChildConn child_conn(const std::string &conninfo);

// PGOPTIONS of a pg_restore on the target: maintenance_work_mem for index
// builds, --lock-timeout like every other session of the run, and extra
// "-c name=value" settings.
std::string restore_options(const SchemaOptions &opt, const std::string &extra = "");

// Runs argv; a non-zero exit throws Permanent "<what> failed (exit N): <stderr>"
// with the password masked. With a slot, another thread may stop the child
// (then Cancelled).
void run_checked(const std::vector<std::string> &argv, const std::vector<std::pair<std::string, std::string>> &env,
                 const std::string &what, const std::string &hint, util::ChildSlot *slot = nullptr);

}  // namespace pgcutover::schema::detail
