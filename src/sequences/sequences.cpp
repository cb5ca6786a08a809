#include "pgcutover/sequences/sequences.hpp"

#include <algorithm>
#include <set>

#include "pgcutover/sql/sequences.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::sequences {

namespace {

// The sequences of the source in scope: all of them, or those feeding one of `tables`.
std::vector<catalog::SequenceDef> in_scope(pg::Connection &src, const std::vector<sql::QualifiedName> &tables,
                                           bool whole_database, const std::vector<std::string> &exclude_schemas) {
  std::set<sql::QualifiedName> wanted(tables.begin(), tables.end());
  std::vector<catalog::SequenceDef> out;
  for (catalog::SequenceDef &s : catalog::load_sequences(src, exclude_schemas))
    if (whole_database || s.feeds_any(wanted)) out.push_back(std::move(s));
  return out;
}

bool has_sequence(const std::vector<catalog::SequenceDef> &seqs, const sql::QualifiedName &name) {
  return std::any_of(seqs.begin(), seqs.end(), [&](const auto &d) { return d.name == name; });
}

}  // namespace

std::vector<ColumnExtreme> column_extremes(pg::Connection &conn, const catalog::SequenceDef &s) {
  std::vector<ColumnExtreme> out;
  for (const catalog::FedColumn &f : s.feeds) {
    std::string text;
    try {
      pg::Result r = conn.exec(sql::sequences::extreme_value(f.table, f.column, s.increment > 0));
      if (r.is_null(0, 0)) continue;
      text = r.get(0, 0);
      out.push_back({f.table.display() + "." + f.column, std::stoll(text)});
    } catch (const std::exception &e) {
      log::debug("sequence {}: no integer extreme of {}.{} ({})", s.name.display(), f.table.display(), f.column,
                 e.what());
    }
  }
  return out;
}

catalog::SequenceState required_position(const catalog::SequenceDef &s, const catalog::SequenceState &source,
                                         const catalog::SequenceState &target,
                                         const std::vector<ColumnExtreme> &extremes) {
  catalog::SequenceState want = source;
  if (s.cycle) return want;
  // `used` has been handed out or is held by a column: the next value must come after it.
  auto after = [&](i64 used) {
    if (!beyond(s, next_value(s, want), used)) want = {used, true};
  };
  if (target.is_called) after(target.last_value);  // never backwards
  for (const ColumnExtreme &e : extremes) after(e.value);
  // Past its bound: exhausted at the bound (nextval fails rather than repeat a value).
  if (s.increment > 0 && want.last_value > s.max) want = {s.max, true};
  if (s.increment < 0 && want.last_value < s.min) want = {s.min, true};
  return want;
}

std::vector<SequenceChange> reset_sequences(pg::Connection &src, pg::Connection &dst,
                                            const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                            const std::vector<std::string> &exclude_schemas,
                                            const std::function<void()> &between_tables) {
  std::vector<SequenceChange> out;
  std::vector<catalog::SequenceDef> dst_seqs = catalog::load_sequences(dst, exclude_schemas);
  bool first = true;
  for (const catalog::SequenceDef &s : in_scope(src, tables, whole_database, exclude_schemas)) {
    if (!first && between_tables) between_tables();
    first = false;
    if (!has_sequence(dst_seqs, s.name)) {
      log::warn("sequence {} (feeding {}) does not exist on the target: not set", s.name.display(),
                s.feeds.empty() ? std::string("nothing") : s.fed_list());
      continue;
    }
    auto from = catalog::read_sequence(src, s.name);
    auto before = catalog::read_sequence(dst, s.name);
    if (!from || !before) continue;
    std::vector<ColumnExtreme> extremes = s.cycle ? std::vector<ColumnExtreme>{} : column_extremes(dst, s);
    catalog::SequenceState want = required_position(s, *from, *before, extremes);
    if (!s.cycle && want.is_called && want.last_value == (s.increment > 0 ? s.max : s.min))
      log::warn("sequence {} stands at its bound {}: its next nextval() fails", s.name.display(), want.last_value);
    dst.query(sql::sequences::set_value(),
              {s.name.schema, s.name.name, std::to_string(want.last_value), want.is_called ? "true" : "false"});
    out.push_back({s.name.display(), s.fed_list(), before->last_value, before->is_called, want.last_value,
                   want.is_called, from->last_value, from->is_called});
  }
  return out;
}

std::vector<sql::QualifiedName> missing_on_target(pg::Connection &src, pg::Connection &dst, const catalog::Catalog &dc,
                                                  const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                                  const std::vector<std::string> &exclude_schemas) {
  std::vector<catalog::SequenceDef> dst_seqs = catalog::load_sequences(dst, exclude_schemas);
  std::vector<sql::QualifiedName> out;
  for (const catalog::SequenceDef &s : in_scope(src, tables, whole_database, exclude_schemas)) {
    if (has_sequence(dst_seqs, s.name)) continue;
    const catalog::FedColumn *owner = s.owner();
    if (owner && !dc.find(owner->table)) continue;  // comes with its table
    out.push_back(s.name);
  }
  return out;
}

}  // namespace pgcutover::sequences
