// Choosing pg_dump / pg_restore by version (see tools.hpp).
#include "pgcutover/schema/tools.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "pgcutover/catalog/catalog.hpp"
#include "pgcutover/sql/catalog.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"
#include "pgcutover/util/subprocess.hpp"

namespace pgcutover::schema {

namespace fs = std::filesystem;

namespace {

bool executable(const fs::path &p) { return access(p.c_str(), X_OK) == 0; }

// Every folder that may hold pg_dump, best first: /usr/lib/postgresql/<N>/bin
// newest first, then PATH.
std::vector<fs::path> candidate_dirs() {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto &d : fs::directory_iterator("/usr/lib/postgresql", ec)) dirs.push_back(d.path() / "bin");
  std::sort(dirs.begin(), dirs.end(), [](const fs::path &a, const fs::path &b) {
    auto ver = [](const fs::path &p) { return std::atoi(p.parent_path().filename().c_str()); };
    return ver(a) > ver(b);
  });
  if (const char *path = std::getenv("PATH")) {
    std::string all = path;
    for (size_t start = 0; start <= all.size();) {
      size_t end = all.find(':', start);
      if (end == std::string::npos) end = all.size();
      if (end > start) dirs.emplace_back(all.substr(start, end - start));
      start = end + 1;
    }
  }
  return dirs;
}

DumpTools tools_in(const fs::path &dir, int major) {
  DumpTools t;
  t.bin_dir = dir.string();
  t.pg_dump = (dir / "pg_dump").string();
  t.pg_restore = executable(dir / "pg_restore") ? (dir / "pg_restore").string() : "";
  t.major = major;
  return t;
}

}  // namespace

int major_of(int server_version) { return server_version / 10000; }

std::optional<int> program_major(const std::string &program) {
  if (!executable(program)) return std::nullopt;
  util::ProcessResult r;
  try {
    r = util::run_process_output({program, "--version"});
  } catch (const Error &) {
    return std::nullopt;
  }
  if (r.exit_code != 0) return std::nullopt;
  std::smatch m;
  static const std::regex version_re(R"(\(PostgreSQL\) (\d+))");
  if (!std::regex_search(r.err, m, version_re)) return std::nullopt;
  return std::stoi(m[1].str());
}

DumpTools find_dump_tools(const std::string &pg_bin, int source_version) {
  const int need = major_of(source_version);
  const std::string how_on =
      "or create the tables on the target beforehand (for example from a schema-only dump made with a pg_dump "
      "of version " + std::to_string(need) + " or later elsewhere) and copy the data only with --no-schema";
  if (!pg_bin.empty()) {
    const fs::path dump = fs::path(pg_bin) / "pg_dump";
    std::optional<int> have = program_major(dump.string());
    if (!have)
      throw_usage("pg_dump not found or not runnable in --pg-bin " + pg_bin,
                  "point --pg-bin at the bin folder of a PostgreSQL " + std::to_string(need) + " or newer client, " + how_on);
    if (*have < need)
      throw_usage("the source runs PostgreSQL " + std::to_string(need) + ", and the pg_dump in --pg-bin " + pg_bin +
                      " is version " + std::to_string(*have) + ": pg_dump must be at least the source's major version (" +
                      std::to_string(need) + ") to read its schema",
                  "install the PostgreSQL " + std::to_string(need) + " client and point --pg-bin at its bin folder, " +
                      how_on);
    return tools_in(pg_bin, *have);
  }
  std::optional<DumpTools> newest;
  for (const fs::path &dir : candidate_dirs()) {
    std::optional<int> have = program_major((dir / "pg_dump").string());
    if (!have) continue;
    if (*have >= need) {
      log::debug("pg_dump {} in {} reads the PostgreSQL {} source", *have, dir.string(), need);
      return tools_in(dir, *have);
    }
    if (!newest || *have > newest->major) newest = tools_in(dir, *have);
  }
  if (!newest)
    throw_usage("no pg_dump found (the source runs PostgreSQL " + std::to_string(need) + ")",
                "install the PostgreSQL " + std::to_string(need) + " client (postgresql-client-" + std::to_string(need) +
                    ") or pass --pg-bin, " + how_on);
  throw_usage("the source runs PostgreSQL " + std::to_string(need) + ", and the newest pg_dump found is version " +
                  std::to_string(newest->major) + " (" + newest->pg_dump + "): pg_dump must be at least the source's "
                  "major version (" + std::to_string(need) + ") to read its schema",
              "install the PostgreSQL " + std::to_string(need) + " client (postgresql-client-" + std::to_string(need) +
                  ") and pass --pg-bin /usr/lib/postgresql/" + std::to_string(need) + "/bin, " + how_on);
}

bool target_lacks_tables(pg::Connection &src, pg::Connection &dst, const std::vector<sql::QualifiedName> &tables,
                         const std::vector<std::string> &exclude_schemas) {
  catalog::Catalog cat = catalog::load_catalog(src, exclude_schemas);
  for (const catalog::TableDef &t : catalog::select_tables(cat, tables)) {
    pg::Result r = dst.query(sql::catalog::table_exists(), {t.name.schema, t.name.name});
    if (!r.get_bool(0, 0)) return true;
  }
  return false;
}

}  // namespace pgcutover::schema
