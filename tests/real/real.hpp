#pragma once
// Shared set-up of the real-databases suite (tests/real).
#include <initializer_list>
#include <string>

#include "pg_cluster.hpp"

namespace pgcutover::testing::real {

// Roles a fixture's owners and GRANTs name, created NOLOGIN when missing
// (roles are per cluster: pass a cluster's conninfo).
inline void create_roles(const std::string &cluster_conninfo, std::initializer_list<const char *> roles) {
  for (const char *r : roles)
    exec(cluster_conninfo, std::string("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '") + r +
                               "') THEN CREATE ROLE " + r + " NOLOGIN; END IF; END $$");
}

// A database of this name, new and empty on both clusters.
struct Pair {
  std::string src, dst;
};
inline Pair fresh_databases(const std::string &db) {
  recreate_database(source_cluster(), db);
  recreate_database(target_cluster(), db);
  return {source_cluster().conninfo(db), target_cluster().conninfo(db)};
}

}  // namespace pgcutover::testing::real
