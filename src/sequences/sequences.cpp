#include "pgcutover/sequences/sequences.hpp"

#include <algorithm>
#include <set>

#include "pgcutover/sql/statements.hpp"
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
    dst.query(sql::set_sequence(),
              {s.name.quoted(), std::to_string(from->last_value), from->is_called ? "true" : "false"});
    out.push_back({s.name.display(), s.table ? s.table->display() : "", before->last_value, before->is_called,
                   from->last_value, from->is_called});
  }
  return out;
}

}  // namespace pgcutover::sequences
