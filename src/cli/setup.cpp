#include "pgcutover/cli/setup.hpp"

#include <cstdio>

#include "pgcutover/cli/commands.hpp"

#include <fmt/format.h>

#include "pgcutover/report/model.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

pg::SessionSettings session_settings(const std::string &role, const CopyOptions &opt) {
  pg::SessionSettings s;
  s.role = role;
  s.lock_timeout_ms = util::parse_duration_ms(opt.lock_timeout);
  s.statement_timeout_ms = util::parse_duration_ms(opt.statement_timeout);
  return s;
}

pipeline::Endpoints endpoints(const CopyOptions &opt) {
  return {opt.source, opt.target, session_settings("source", opt), session_settings("target", opt)};
}

plan::BuildOptions build_options(const CopyOptions &opt) {
  plan::BuildOptions b;
  for (const std::string &t : opt.tables) b.tables.push_back(sql::parse_qualified_name(t));
  b.exclude_schemas = opt.exclude_schemas;
  b.exclude_schemas.push_back(opt.tool_schema);
  b.ranges.range_bytes = util::parse_size(opt.range_bytes);
  if (b.ranges.range_bytes < 1000000) throw_usage("--range-bytes must be at least 1MB");
  b.strategy = merge::parse_strategy(opt.strategy);
  b.format = plan::parse_format(opt.format);
  return b;
}

void check_target_writable(pg::Connection &dst) {
  pg::Result r = dst.exec("SELECT pg_catalog.pg_is_in_recovery(), pg_catalog.current_setting('transaction_read_only')");
  if (r.get_bool(0, 0))
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is a standby (in recovery) and cannot take writes",
                "point --target at the primary");
  if (r.get(0, 1) == "on")
    throw Error(ErrorKind::Usage, "the " + dst.display_name() + " is read-only (default_transaction_read_only is on)",
                "point --target at a writable server or turn default_transaction_read_only off for this user");
}

int print_outcome(const CommandOutcome &out, const CommonOptions &common) {
  if (common.json) std::printf("%s\n", out.json.dump(2).c_str());
  else if (!common.quiet) std::printf("%s", out.text.c_str());
  return out.exit_code;
}

nlohmann::json plan_to_json(const plan::Plan &p) {
  nlohmann::json tables = nlohmann::json::array();
  for (const plan::TablePlan &t : p.tables) {
    nlohmann::json ranges = nlohmann::json::array();
    for (const plan::KeyRange &r : t.ranges)
      ranges.push_back({{"range", r.id}, {"bounds", r.describe()}, {"planned_bytes", r.planned_bytes}});
    tables.push_back({{"table", t.table.name.display()},
                      {"schema", t.table.name.schema},
                      {"name", t.table.name.name},
                      {"heap_bytes", t.table.heap_bytes},
                      {"toast_bytes", t.table.toast_bytes},
                      {"estimated_rows", t.table.reltuples < 0 ? nlohmann::json(nullptr) : nlohmann::json(static_cast<i64>(t.table.reltuples))},
                      {"key", t.table.key},
                      {"ranges", ranges.size()},
                      {"range_list", ranges},
                      {"strategy", merge::to_string(t.strategy)},
                      {"strategy_reason", t.strategy_reason},
                      {"format", copybin::to_string(t.format)},
                      {"format_reason", t.format_reason},
                      {"target_exists", t.target_exists}});
  }
  nlohmann::json refused = nlohmann::json::array();
  for (const plan::Refusal &r : p.refused) refused.push_back({{"table", r.table}, {"reason", r.reason}});
  return {{"tables", tables},
          {"refused", refused},
          {"whole_database", p.whole_database},
          {"total_bytes", p.total_bytes()},
          {"total_ranges", p.total_ranges()}};
}

std::string plan_to_text(const plan::Plan &p) {
  std::string out;
  size_t w = 5;
  for (const plan::TablePlan &t : p.tables) w = std::max(w, t.table.name.display().size());
  w = std::min<size_t>(w, 60);
  out += fmt::format("{:<{}}  {:>10}  {:>10}  {:>12}  {:>6}  {:<6}  {:<6}  {}\n", "table", w, "heap", "toast", "est. rows",
                     "ranges", "format", "strat.", "key / why");
  for (const plan::TablePlan &t : p.tables) {
    std::string key;
    for (const std::string &k : t.table.key) key += (key.empty() ? "" : ",") + k;
    out += fmt::format("{:<{}}  {:>10}  {:>10}  {:>12}  {:>6}  {:<6}  {:<6}  key ({}); {}; {}\n", t.table.name.display(), w,
                       report::format_bytes(t.table.heap_bytes), report::format_bytes(t.table.toast_bytes),
                       t.table.reltuples < 0 ? std::string("?") : std::to_string(static_cast<i64>(t.table.reltuples)),
                       t.ranges.size(), copybin::to_string(t.format), merge::to_string(t.strategy),
                       key.empty() ? "none" : key, t.strategy_reason, t.format_reason);
  }
  out += fmt::format("{} table(s), {} range(s), {}\n", p.tables.size(), p.total_ranges(),
                     report::format_bytes(p.total_bytes()));
  for (const plan::Refusal &r : p.refused) out += "refused: " + r.table + ": " + r.reason + "\n";
  return out;
}

}  // namespace pgcutover::cli
