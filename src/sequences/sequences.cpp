#include "pgcutover/sequences/sequences.hpp"

#include <algorithm>
#include <set>

#include "pgcutover/sql/sequences.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::sequences {

std::vector<SequenceChange> reset_sequences(pg::Connection &src, pg::Connection &dst,
                                            const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                            const std::vector<std::string> &exclude_schemas) {
  std::vector<SequenceChange> out;
  std::set<sql::QualifiedName> copied(tables.begin(), tables.end());
  std::vector<catalog::SequenceDef> src_seqs = catalog::load_sequences(src, exclude_schemas);
  std::vector<catalog::SequenceDef> dst_seqs = catalog::load_sequences(dst, exclude_schemas);
  std::set<sql::QualifiedName> done;
  for (const catalog::SequenceDef &s : src_seqs) {
    bool feeds_copied = s.table && copied.count(*s.table);
    if (!whole_database && !feeds_copied) continue;
    if (!done.insert(s.name).second) continue;
    bool on_target = std::any_of(dst_seqs.begin(), dst_seqs.end(), [&](const auto &d) { return d.name == s.name; });
    if (!on_target) {
      log::warn("sequence {} feeds {} but does not exist on the target: not set", s.name.display(),
                s.table ? s.table->display() : std::string("nothing"));
      continue;
    }
    auto from = catalog::read_sequence(src, s.name);
    auto before = catalog::read_sequence(dst, s.name);
    if (!from || !before) continue;
    // At least where the source stands, never below the largest value in the
    // column it feeds on the target, and never backwards on the target.
    i64 value = from->last_value;
    bool called = from->is_called;
    auto raise_to = [&](i64 v) {
      if (v > value || (v == value && !called)) {
        value = v;
        called = true;
      }
    };
    if (before->is_called) raise_to(before->last_value);
    if (s.table && !s.column.empty()) {
      pg::Result r = dst.exec(sql::sequences::max_value(*s.table, s.column));
      if (!r.is_null(0, 0)) {
        try {
          raise_to(std::stoll(std::string(r.get(0, 0))));
        } catch (const std::exception &) {
        }
      }
    }
    dst.query(sql::sequences::set_value(), {s.name.schema, s.name.name, std::to_string(value), called ? "true" : "false"});
    out.push_back({s.name.display(), s.table ? s.table->display() : "", before->last_value, before->is_called, value,
                   called});
  }
  return out;
}

}  // namespace pgcutover::sequences
