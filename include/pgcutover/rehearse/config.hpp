#pragma once
// A rehearsal's config file (TOML):
//
//   source = "host=old.example dbname=shop user=migrator"   # no password here:
//   target = "host=new.example dbname=shop user=migrator"   # .pgpass, PGPASSWORD or a service file
//   tables = ["public.orders", "public.customers"]          # optional: default every table
//   jobs = 2
//   budget = "2h"            # the outage budget
//   safety = 0.8             # fail when over this fraction of the budget
//   deletes = "detect"       # or "off"
//   overlap = "5min"
//   writer_time_zone = "America/New_York"   # optional; per table too
//   allow_scan = true        # change detection may scan tables (xmin, unindexed columns)
//   verify = "hash"          # count | hash | full
//   [tables."public.orders"]
//   change_column = "updated_at"
//   [[checks]]
//   name = "every order has a customer"
//   sql = "SELECT NOT EXISTS (SELECT 1 FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL)"
//   [[checks]]               # same_rows: run on both sides (the source in the
//   name = "open orders"     # sync's snapshot), the same rows required
//   sql = "SELECT id, total FROM orders WHERE status = 'open'"
//   same_rows = true
//   query_runs = 5           # each [[queries]] runs this many times per side
//   query_tolerance = 1.2    # target median over source median above this: slower
//   queries_must_not_regress = false  # true: a slower query makes the verdict no-go
//   history_dir = "rehearsals"        # else the history goes to <tool_schema>.rehearsals on the target
//   [[queries]]
//   name = "orders of a customer"
//   sql = "SELECT * FROM orders WHERE customer_id = 42"
#include <string>
#include <vector>

namespace pgcutover::rehearse {

struct Check {
  std::string name;
  std::string sql;  // must return one row holding true, or no rows
  bool same_rows = false;  // instead: the same rows on both sides
};

struct Query {
  std::string name;
  std::string sql;
};

struct RehearsalConfig {
  std::string path;
  std::string source;
  std::string target;
  std::vector<std::string> tables;
  int jobs = 2;
  std::string budget = "2h";
  double safety = 1.0;
  std::string deletes = "detect";
  std::string overlap = "5min";
  std::string writer_time_zone;  // "" = the source role's TimeZone
  bool allow_scan = true;
  std::string verify = "hash";
  std::string tool_schema = "pgcutover";
  std::vector<Check> checks;
  std::vector<Query> queries;
  int query_runs = 5;
  double query_tolerance = 1.2;
  bool queries_must_not_regress = false;
  std::string history_dir;  // empty: the target's ledger schema
};

RehearsalConfig load_rehearsal_config(const std::string &path);  // throws Usage, naming the key

}  // namespace pgcutover::rehearse
