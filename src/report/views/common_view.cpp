#include <fmt/format.h>

#include "pgcutover/report/views.hpp"

namespace pgcutover::report::views {

nlohmann::json to_json(const pg::SnapshotInfo &s) { return {{"id", s.id}, {"taken_at", s.taken_at}, {"xmin", s.xmin}}; }

nlohmann::json to_json(const sync::Drift &d) {
  return {{"table", d.table.display()}, {"kind", sync::to_string(d.kind)}, {"column", d.column},
          {"detail", d.detail}, {"blocking", d.blocking}};
}

std::string drift_line(const sync::Drift &d) {
  return fmt::format("drift: {} {} {} {}\n", d.table.display(), sync::to_string(d.kind), d.column, d.detail);
}

}  // namespace pgcutover::report::views
