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
//   allow_scan = true        # change detection may scan tables (xmin, unindexed columns)
//   verify = "hash"          # count | hash | full
//   [tables."public.orders"]
//   change_column = "updated_at"
//   [[checks]]
//   name = "every order has a customer"
//   sql = "SELECT NOT EXISTS (SELECT 1 FROM orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE c.id IS NULL)"
#include <string>
#include <vector>

namespace pgcutover::rehearse {

struct Check {
  std::string name;
  std::string sql;  // must return one row holding true, or no rows
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
  bool allow_scan = true;
  std::string verify = "hash";
  std::string tool_schema = "pgcutover";
  std::vector<Check> checks;
};

RehearsalConfig load_rehearsal_config(const std::string &path);  // throws Usage, naming the key

}  // namespace pgcutover::rehearse
