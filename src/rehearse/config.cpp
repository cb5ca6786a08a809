#include "pgcutover/rehearse/config.hpp"

#include <toml++/toml.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::rehearse {

RehearsalConfig load_rehearsal_config(const std::string &path) {
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw_usage("cannot read config file " + path + ": " + std::string(e.description()));
  }
  RehearsalConfig c;
  c.path = path;
  auto need = [&](const char *key) {
    auto v = root[key].value<std::string>();
    if (!v) throw_usage(path + ": '" + key + "' is missing (a conninfo string or URI)");
    return *v;
  };
  c.source = need("source");
  c.target = need("target");
  if (const toml::array *a = root["tables"].as_array())
    for (const auto &t : *a)
      if (auto s = t.value<std::string>()) c.tables.push_back(*s);
  c.jobs = static_cast<int>(root["jobs"].value_or(2));
  c.budget = root["budget"].value_or(std::string("2h"));
  c.safety = root["safety"].value_or(1.0);
  c.deletes = root["deletes"].value_or(std::string("detect"));
  c.overlap = root["overlap"].value_or(std::string("5min"));
  c.writer_time_zone = root["writer_time_zone"].value_or(std::string());
  c.allow_scan = root["allow_scan"].value_or(true);
  c.verify = root["verify"].value_or(std::string("hash"));
  c.tool_schema = root["tool_schema"].value_or(std::string("pgcutover"));
  if (c.safety <= 0 || c.safety > 1) throw_usage(path + ": 'safety' must be a fraction in (0, 1]");
  if (const toml::array *checks = root["checks"].as_array())
    for (const auto &node : *checks) {
      const toml::table *t = node.as_table();
      if (!t) continue;
      Check k;
      k.name = (*t)["name"].value_or(std::string());
      k.sql = (*t)["sql"].value_or(std::string());
      k.same_rows = (*t)["same_rows"].value_or(false);
      if (k.name.empty() || k.sql.empty()) throw_usage(path + ": every [[checks]] needs a name and an sql");
      c.checks.push_back(std::move(k));
    }
  if (const toml::array *queries = root["queries"].as_array())
    for (const auto &node : *queries) {
      const toml::table *t = node.as_table();
      if (!t) continue;
      Query q;
      q.name = (*t)["name"].value_or(std::string());
      q.sql = (*t)["sql"].value_or(std::string());
      if (q.name.empty() || q.sql.empty()) throw_usage(path + ": every [[queries]] needs a name and an sql");
      c.queries.push_back(std::move(q));
    }
  c.query_runs = static_cast<int>(root["query_runs"].value_or(5));
  c.query_tolerance = root["query_tolerance"].value_or(1.2);
  c.queries_must_not_regress = root["queries_must_not_regress"].value_or(false);
  c.history_dir = root["history_dir"].value_or(std::string());
  if (c.query_runs < 1) throw_usage(path + ": 'query_runs' must be at least 1");
  if (c.query_tolerance < 1) throw_usage(path + ": 'query_tolerance' must be at least 1 (a ratio target/source)");
  return c;
}

}  // namespace pgcutover::rehearse
