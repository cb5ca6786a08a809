// pgcutover traffic: writes on the source at a set rate for a set time (a mix
// of updates, inserts and deletes on any schema with primary keys), so a
// rehearsal syncs real changes; prints what it did per table.
#include "pgcutover/cli/command.hpp"
#include "pgcutover/jobs/traffic_job.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/util/units.hpp"

namespace pgcutover::cli {

namespace {

struct TrafficOptions {
  std::string source;
  std::vector<std::string> tables;
  std::vector<std::string> exclude_schemas;
  std::string tool_schema = "pgcutover";
  std::string change_column;
  double rate = 10;
  std::string duration = "60s";
  std::string mix = "80:15:5";
  unsigned seed = 1;
};

traffic::Mix parse_mix(const std::string &text) {
  traffic::Mix m;
  char c1 = 0, c2 = 0;
  int n = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c%d%n", &m.updates, &c1, &m.inserts, &c2, &m.deletes, &n) != 5 || c1 != ':' ||
      c2 != ':' || n != static_cast<int>(text.size()))
    throw_usage("--mix takes updates:inserts:deletes weights, like 80:15:5 (got '" + text + "')");
  return m;
}

}  // namespace

Command traffic_command(CLI::App &root, const CommonOptions &common) {
  auto o = std::make_shared<TrafficOptions>();
  CLI::App *cmd = root.add_subcommand("traffic", "write on the source at a set rate (updates, inserts, deletes) for a rehearsal");
  cmd->add_option("--source", o->source, "source conninfo or URI (PG* variables and ~/.pgpass apply)")->required();
  cmd->add_option("--rate", o->rate, "transactions per second (one row each)")->capture_default_str();
  cmd->add_option("--duration", o->duration, "how long to write (30s, 5min, 1h)")->capture_default_str();
  cmd->add_option("--mix", o->mix, "weights of updates:inserts:deletes")->capture_default_str();
  cmd->add_option("--table,-t", o->tables, "schema.table (repeatable); default: every table with a primary key")
      ->take_all();
  cmd->add_option("--exclude-schema", o->exclude_schemas, "leave this schema out (repeatable)");
  cmd->add_option("--tool-schema", o->tool_schema, "the ledger's schema, never written to")->capture_default_str();
  cmd->add_option("--change-column", o->change_column,
                  "the column updates set to now() (default: updated_at, modified_at, ... when a table has one)");
  cmd->add_option("--seed", o->seed, "random seed (the same seed picks the same tables and operations)")
      ->capture_default_str();
  return {cmd, [o, &common] {
            jobs::TrafficConfig cfg;
            pg::check_conninfo(o->source, "--source");
            cfg.source_conninfo = o->source;
            cfg.source_settings.role = "source";
            cfg.source_settings.application_name = "pgcutover traffic";
            for (const std::string &t : o->tables) cfg.tables.push_back(sql::parse_qualified_name(t));
            cfg.exclude_schemas = o->exclude_schemas;
            cfg.exclude_schemas.push_back(o->tool_schema);
            cfg.change_column = o->change_column;
            cfg.rate = o->rate;
            cfg.seconds = static_cast<double>(util::parse_duration_ms(o->duration)) / 1000.0;
            cfg.mix = parse_mix(o->mix);
            cfg.seed = o->seed;
            jobs::TrafficResult res = jobs::run_traffic(cfg);
            views::View v =
                views::traffic(res, pg::display_name(pg::parse_conninfo(o->source)));
            return print(v, common, res.stopped_early ? 130 : 0);
          }};
}

}  // namespace pgcutover::cli
