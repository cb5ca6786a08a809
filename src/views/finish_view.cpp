// The view of the finish result.
#include <fmt/format.h>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

View finish(const jobs::FinishResult &r) {
  View v;
  v.json = {{"command", "finish"}, {"target", r.target},   {"tool_schema", r.tool_schema},
            {"removed", r.removed}, {"objects", r.objects}, {"jobs", r.jobs}};
  if (!r.removed) {
    v.text = fmt::format("nothing to remove: no schema \"{}\" on the {}\n", r.tool_schema, r.target);
    return v;
  }
  v.text = fmt::format("removed schema \"{}\" from the {}:\n", r.tool_schema, r.target);
  for (const std::string &o : r.objects) v.text += "  " + o + "\n";
  if (!r.jobs.empty()) {
    v.text += fmt::format("with the ledger of {} job(s):\n", r.jobs.size());
    for (const std::string &j : r.jobs) v.text += "  " + j + "\n";
  }
  return v;
}

}  // namespace pgcutover::views
