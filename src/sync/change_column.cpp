#include "pgcutover/sync/change_column.hpp"

#include "pgcutover/sql/sync.hpp"

#include <algorithm>
#include <toml++/toml.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::sync {

namespace {

const char *UPDATE_NAMES[] = {"updated_at", "updated",    "modified_at", "modified", "last_modified", "last_modified_at",
                              "changed_at", "update_time", "updated_on", "mtime",    "last_update",   "last_updated"};
const char *CREATE_NAMES[] = {"created_at", "created", "inserted_at", "created_on", "create_time", "insert_time", "ctime"};

bool is_time_type(const std::string &type) {
  return type.rfind("timestamp", 0) == 0 || type == "date";
}

template <size_t N>
const catalog::ColumnDef *find_named(const catalog::TableDef &t, const char *(&names)[N], bool indexed_only) {
  for (const char *n : names)
    for (const catalog::ColumnDef &c : t.columns)
      if (c.name == n && is_time_type(c.type)) {
        bool indexed = std::find(t.index_leads.begin(), t.index_leads.end(), c.name) != t.index_leads.end();
        if (!indexed_only || indexed) return &c;
      }
  return nullptr;
}

bool indexed(const catalog::TableDef &t, const std::string &col) {
  return std::find(t.index_leads.begin(), t.index_leads.end(), col) != t.index_leads.end();
}

}  // namespace

const char *to_string(ChangeKind k) {
  switch (k) {
    case ChangeKind::UpdatedAt: return "updated_at";
    case ChangeKind::CreatedAt: return "created_at";
    case ChangeKind::Xmin: return "xmin";
    case ChangeKind::Reload: return "reload";
    case ChangeKind::Reread: return "reread";
  }
  return "?";
}

namespace {

void set_writer_time_zone(ChangeMethod &m, const catalog::TableDef &t, const std::optional<TableConfig> &cfg,
                          const std::string &option_zone, const std::string &role_zone) {
  if (m.column.empty()) return;
  const catalog::ColumnDef *c = t.find_column(m.column);
  if (!c || !(c->type.rfind("timestamp without time zone", 0) == 0 || c->type == "date")) return;
  if (cfg && !cfg->writer_time_zone.empty()) {
    m.time_zone = cfg->writer_time_zone;
    m.time_zone_from = "the config file";
  } else if (!option_zone.empty()) {
    m.time_zone = option_zone;
    m.time_zone_from = "--writer-time-zone";
  } else {
    m.time_zone = role_zone;
    m.time_zone_from = "the source role's TimeZone";
  }
}

}  // namespace

ChangeMethod choose_change_method(const catalog::TableDef &t, const std::optional<TableConfig> &cfg) {
  ChangeMethod m;
  if (!t.has_key()) {
    // Rows without a key cannot be matched: every sync replaces the table
    // whole, whatever changed (a change column cannot help).
    m.kind = ChangeKind::Reload;
    m.scans = true;
    m.reason = "no primary key and no unique index over NOT NULL columns: changed rows cannot be matched, so all "
               "rows are replaced";
    return m;
  }
  if (cfg && !cfg->change_column.empty()) {
    if (cfg->change_column == "xmin") {
      m.kind = ChangeKind::Xmin;
      m.scans = true;
      m.reason = "xmin, set in the config file";
      return m;
    }
    const catalog::ColumnDef *c = t.find_column(cfg->change_column);
    if (!c || !is_time_type(c->type))
      throw_usage(t.name.display() + ": the config file names change column \"" + cfg->change_column +
                  "\", which is not a timestamp or date column of the table");
    bool created = std::any_of(std::begin(CREATE_NAMES), std::end(CREATE_NAMES), [&](const char *n) { return c->name == n; });
    m.kind = created ? ChangeKind::CreatedAt : ChangeKind::UpdatedAt;
    m.column = c->name;
    m.scans = !indexed(t, c->name);
    m.reason = "\"" + c->name + "\", set in the config file" + (m.scans ? " (not indexed: the sync scans the table)" : "");
    if (created) m.warning = "updates to existing rows are not seen through \"" + c->name + "\"";
    return m;
  }
  if (const catalog::ColumnDef *c = find_named(t, UPDATE_NAMES, true)) {
    m.kind = ChangeKind::UpdatedAt;
    m.column = c->name;
    m.reason = "indexed \"" + c->name + "\" sees inserts and updates";
    return m;
  }
  if (const catalog::ColumnDef *c = find_named(t, CREATE_NAMES, true)) {
    m.kind = ChangeKind::CreatedAt;
    m.column = c->name;
    m.reason = "indexed \"" + c->name + "\" (no indexed updated_at-like column)";
    m.warning = "updates to existing rows are not seen; index an updated_at column, or set change_column = \"xmin\"";
    if (const catalog::ColumnDef *u = find_named(t, UPDATE_NAMES, false))
      m.warning += " (\"" + u->name + "\" exists but is not indexed)";
    return m;
  }
  if (const catalog::ColumnDef *c = find_named(t, UPDATE_NAMES, false)) {
    m.kind = ChangeKind::UpdatedAt;
    m.column = c->name;
    m.scans = true;
    m.reason = "\"" + c->name + "\" is not indexed: the sync scans the whole table";
    return m;
  }
  if (const catalog::ColumnDef *c = find_named(t, CREATE_NAMES, false)) {
    m.kind = ChangeKind::CreatedAt;
    m.column = c->name;
    m.scans = true;
    m.reason = "\"" + c->name + "\" is not indexed: the sync scans the whole table";
    m.warning = "updates to existing rows are not seen";
    return m;
  }
  m.kind = ChangeKind::Xmin;
  m.scans = true;
  std::string stamps;
  for (const catalog::ColumnDef &c : t.columns)
    if (is_time_type(c.type)) stamps += (stamps.empty() ? "\"" : ", \"") + c.name + "\"";
  m.reason = stamps.empty()
                 ? "no timestamp column: rows' transaction ids (xmin) against the watermark's snapshot; scans the table"
                 : "no updated_at- or created_at-like column (" + stamps +
                       " may not follow every change: name one with change_column in the config file if it does): "
                       "rows' transaction ids (xmin) against the watermark's snapshot; scans the table";
  return m;
}

ChangeMethod change_method_for(const catalog::TableDef &t, const std::map<std::string, TableConfig> &configs,
                               const std::string &option_zone, const std::string &role_zone) {
  auto c = configs.find(t.name.display());
  std::optional<TableConfig> cfg = c == configs.end() ? std::nullopt : std::optional(c->second);
  ChangeMethod m = choose_change_method(t, cfg);
  set_writer_time_zone(m, t, cfg, option_zone, role_zone);
  return m;
}

ScanCost scan_cost(const catalog::TableDef &t, const ChangeMethod &m, i64 scan_below) {
  ScanCost c;
  c.bytes = t.total_bytes();
  c.scans = m.scans;
  c.seconds = static_cast<double>(c.bytes) / SCAN_BYTES_PER_SECOND;
  c.too_big = m.scans && c.bytes > scan_below;
  return c;
}

std::string refusal_fix(const catalog::TableDef &t, const ChangeMethod &m) {
  if (m.kind == ChangeKind::Reload)
    return "the table has no primary key and no unique index over NOT NULL columns, so every sync, the final one "
           "included, replaces all its rows; give it one on the source (ALTER TABLE " + t.name.quoted() +
           " ADD PRIMARY KEY (...), or CREATE UNIQUE INDEX CONCURRENTLY ... over NOT NULL columns: then ranges, "
           "upserts and its change column work as for any keyed table; see `plan` for the key each table gets), or "
           "accept the reload's time inside the outage with --allow-scan (or a larger --scan-below)";
  if (!m.column.empty())
    return "rerun with --allow-scan (or a larger --scan-below), or index the change column on the source first (" +
           sql::sync::create_index_concurrently(t.name, m.column) + ")";
  return "rerun with --allow-scan (or a larger --scan-below), or add an indexed updated_at column kept by the "
         "application and name it with change_column in the config file";
}

std::optional<FinalSyncScan> final_sync_scan(const catalog::TableDef &t, const ChangeMethod &m, i64 scan_below) {
  ScanCost cost = scan_cost(t, m, scan_below);
  if (!cost.scans) return std::nullopt;
  return FinalSyncScan{t.name.display(), m, cost, refusal_fix(t, m)};
}

std::map<std::string, TableConfig> load_config(const std::string &path) {
  std::map<std::string, TableConfig> out;
  if (path.empty()) return out;
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error &e) {
    throw_usage("cannot read config file " + path + ": " + std::string(e.description()));
  }
  if (const toml::table *tables = root["tables"].as_table())
    for (const auto &[name, node] : *tables) {
      TableConfig c;
      if (const toml::table *t = node.as_table()) {
        if (auto v = (*t)["change_column"].value<std::string>()) c.change_column = *v;
        if (auto v = (*t)["writer_time_zone"].value<std::string>()) c.writer_time_zone = *v;
      }
      out[std::string(name.str())] = c;
    }
  return out;
}

}  // namespace pgcutover::sync
