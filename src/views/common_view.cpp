#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

nlohmann::json to_json(const pg::SnapshotInfo &s) {
  nlohmann::json j = {{"id", s.id}, {"taken_at", s.taken_at}, {"xmin", s.xmin}, {"changes_from", s.changes_from}};
  if (!s.changes_from_holder.empty())
    j["oldest_open_transaction"] = {{"holder", s.changes_from_holder}, {"age_seconds", s.changes_from_age_s}};
  return j;
}

nlohmann::json to_json(const sync::Drift &d) {
  return {{"table", d.table.display()}, {"kind", sync::to_string(d.kind)}, {"column", d.column},
          {"detail", d.detail}, {"blocking", d.blocking}};
}

std::string drift_line(const sync::Drift &d) {
  return fmt::format("drift: {} {} {} {}\n", d.table.display(), sync::to_string(d.kind), d.column, d.detail);
}

}  // namespace pgcutover::views
