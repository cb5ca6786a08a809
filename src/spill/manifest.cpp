#include "pgcutover/spill/manifest.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pgcutover/util/error.hpp"

namespace pgcutover::spill {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json bound_json(const std::optional<std::vector<std::string>> &b) { return b ? json(*b) : json(nullptr); }

std::optional<std::vector<std::string>> bound_from(const json &j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::vector<std::string>>();
}

}  // namespace

void check_folder_writable(const fs::path &dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  // Named by the process: another run sharing the folder probes its own.
  fs::path probe = dir / (".pgcutover-write-test-" + std::to_string(::getpid()));
  FILE *f = ec ? nullptr : std::fopen(probe.c_str(), "w");
  if (!f)
    throw_usage("cannot write to the spill folder " + dir.string() + ": " + (ec ? ec.message() : std::strerror(errno)),
                "point --spill-dir at a writable folder with room for the ranges in flight");
  std::fclose(f);
  fs::remove(probe, ec);
}

void write_manifest(const fs::path &dir, const Manifest &m) {
  json tables = json::array();
  for (const ManifestTable &t : m.tables) {
    json cols = json::array(), ranges = json::array();
    for (const ManifestColumn &c : t.columns) cols.push_back({{"name", c.name}, {"type", c.type}});
    for (const ManifestRange &r : t.ranges)
      ranges.push_back({{"id", r.id},
                        {"lower", bound_json(r.lower)},
                        {"upper", bound_json(r.upper)},
                        {"planned_bytes", r.planned_bytes},
                        {"file", r.file}});
    tables.push_back({{"schema", t.name.schema},
                      {"table", t.name.name},
                      {"columns", cols},
                      {"key", t.key},
                      {"key_types", t.key_types},
                      {"format", copybin::to_string(t.format)},
                      {"ranges", ranges}});
  }
  json doc = {{"version", 1},
              {"snapshot", {{"id", m.snapshot.id}, {"taken_at", m.snapshot.taken_at}, {"xmin", m.snapshot.xmin}}},
              {"schema_archive", m.has_schema_archive ? json(SCHEMA_ARCHIVE_FILE) : json(nullptr)},
              {"tables", tables}};
  fs::create_directories(dir);
  std::ofstream out(dir / MANIFEST_FILE);
  out << doc.dump(2) << "\n";
  if (!out) throw Error(ErrorKind::DiskFull, "cannot write " + (dir / MANIFEST_FILE).string(), "free room in the spill folder");
  // Range bounds are key values: the manifest is as private as the spill files.
  fs::permissions(dir / MANIFEST_FILE, fs::perms::owner_read | fs::perms::owner_write);
}

Manifest read_manifest(const fs::path &dir) {
  fs::path path = dir / MANIFEST_FILE;
  std::ifstream in(path);
  if (!in)
    throw_usage("no " + std::string(MANIFEST_FILE) + " in " + dir.string(),
                "point --from-spill at a folder written by `copy --spill-dir DIR --keep-spill`");
  try {
    json doc = json::parse(in);
    Manifest m;
    const json &s = doc.at("snapshot");
    m.snapshot = {s.at("id"), s.at("taken_at"), s.at("xmin")};
    m.has_schema_archive = !doc.value("schema_archive", json()).is_null();
    for (const json &t : doc.at("tables")) {
      ManifestTable mt;
      mt.name = {t.at("schema"), t.at("table")};
      for (const json &c : t.at("columns")) mt.columns.push_back({c.at("name"), c.at("type")});
      mt.key = t.at("key").get<std::vector<std::string>>();
      mt.key_types = t.value("key_types", std::vector<std::string>{});
      mt.format = t.at("format") == "text" ? copybin::StreamFormat::Text : copybin::StreamFormat::Binary;
      for (const json &r : t.at("ranges"))
        mt.ranges.push_back({r.at("id"), bound_from(r.at("lower")), bound_from(r.at("upper")),
                             r.value("planned_bytes", i64{0}), r.at("file")});
      m.tables.push_back(std::move(mt));
    }
    return m;
  } catch (const json::exception &e) {
    throw_data_format(path.string() + " is damaged: " + e.what());
  }
}

}  // namespace pgcutover::spill
