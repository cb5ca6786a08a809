#pragma once
// The manifest of a kept spill folder (`copy --spill-dir DIR --keep-spill`):
// every table with its columns, types, key, format and range files, the
// snapshot the files were read in, and whether the folder holds the schema
// archive. This file is its one reader and writer; `load --from-spill` checks
// the target against it, and each range file's own header again as it loads.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "pgcutover/copybin/format.hpp"
#include "pgcutover/sql/ident.hpp"

namespace pgcutover::spill {

inline constexpr const char *MANIFEST_FILE = "manifest.json";
inline constexpr const char *SCHEMA_ARCHIVE_FILE = "schema.dump";
// pg_restore --use-list files: what to restore from it before and after the data.
inline constexpr const char *PRE_DATA_LIST_FILE = "schema.pre-data.list";
inline constexpr const char *POST_DATA_LIST_FILE = "schema.post-data.list";
// Claimed (spill::FileClaim) by the one run that keeps its files in a folder:
// the manifest lists that run's files, so a second --keep-spill run there is refused.
inline constexpr const char *KEEP_LOCK_FILE = "keep-spill.lock";

struct ManifestColumn {
  std::string name;
  std::string type;  // format_type() text
};

struct ManifestRange {
  i64 id = 0;
  std::optional<std::vector<std::string>> lower;  // key values as text; nullopt: unbounded
  std::optional<std::vector<std::string>> upper;
  i64 planned_bytes = 0;
  std::string file;  // relative to the folder
};

struct ManifestTable {
  sql::QualifiedName name;
  std::vector<ManifestColumn> columns;
  std::vector<std::string> key;
  std::vector<std::string> key_types;
  copybin::StreamFormat format = copybin::StreamFormat::Binary;
  std::vector<ManifestRange> ranges;
};

struct ManifestSnapshot {
  std::string id;
  std::string taken_at;
  std::string xmin;
};

struct Manifest {
  ManifestSnapshot snapshot;
  bool has_schema_archive = false;
  std::vector<ManifestTable> tables;
};

// Creates the folder if needed and checks that it takes files, before
// anything else runs; throws Usage naming the folder.
void check_folder_writable(const std::filesystem::path &dir);

// Writes dir/manifest.json.
void write_manifest(const std::filesystem::path &dir, const Manifest &m);
// Reads dir/manifest.json; throws Usage when there is none, DataFormat when it is damaged.
Manifest read_manifest(const std::filesystem::path &dir);

}  // namespace pgcutover::spill
