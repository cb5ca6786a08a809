#include "pgcutover/verify/sequences_check.hpp"

#include <algorithm>
#include <set>

#include "pgcutover/sql/sequences.hpp"

namespace pgcutover::verify {

namespace {
// The value the next nextval() returns, for increment 1 (the common case; for
// larger increments this still orders sequences correctly).
i64 next_value(const catalog::SequenceState &s) { return s.is_called ? s.last_value + 1 : s.last_value; }
}  // namespace

std::vector<SequenceVerdict> check_sequences(pg::Connection &src, pg::Connection &dst,
                                             const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                             const std::vector<std::string> &exclude_schemas) {
  std::set<sql::QualifiedName> wanted(tables.begin(), tables.end());
  std::vector<catalog::SequenceDef> dst_seqs = catalog::load_sequences(dst, exclude_schemas);
  std::vector<SequenceVerdict> out;
  std::set<sql::QualifiedName> seen;
  for (const catalog::SequenceDef &s : catalog::load_sequences(src, exclude_schemas)) {
    if (!whole_database && !(s.table && wanted.count(*s.table))) continue;
    if (!seen.insert(s.name).second) continue;
    SequenceVerdict v;
    v.sequence = s.name.display();
    v.table = s.table ? s.table->display() + "." + s.column : "";
    auto d = std::find_if(dst_seqs.begin(), dst_seqs.end(), [&](const auto &x) { return x.name == s.name; });
    auto from = catalog::read_sequence(src, s.name);
    if (d == dst_seqs.end() || !from) {
      v.ok = false;
      v.problem = "missing on the target";
      out.push_back(v);
      continue;
    }
    auto to = catalog::read_sequence(dst, s.name);
    v.source_value = from->last_value;
    v.target_value = to->last_value;
    if (next_value(*to) < next_value(*from)) {
      v.ok = false;
      v.problem = "stands behind the source";
    }
    if (s.table && !s.column.empty() && d->table) {
      pg::Result r = dst.exec(sql::sequences::max_value(*d->table, s.column));
      if (!r.is_null(0, 0)) {
        v.column_max = r.get(0, 0);
        try {
          if (next_value(*to) <= std::stoll(v.column_max)) {
            v.ok = false;
            v.problem += std::string(v.problem.empty() ? "" : "; ") + "the next value would collide with max(" +
                         s.column + ") = " + v.column_max;
          }
        } catch (const std::exception &) {
        }
      }
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace pgcutover::verify
