#include "pgcutover/verify/sequences_check.hpp"

#include <algorithm>
#include <optional>
#include <set>

#include "pgcutover/sequences/sequences.hpp"

namespace pgcutover::verify {

namespace {
std::string str(sequences::i128 v) { return std::to_string(static_cast<long long>(v)); }
}  // namespace

// The rule of sequences/sequences.hpp: a CYCLE sequence stands where the
// source's stands; any other one hands out neither a value the source has
// handed out nor one a column it feeds holds on the target (above the max
// ascending, below the min descending).
std::vector<SequenceVerdict> check_sequences(pg::Connection &src, pg::Connection &dst,
                                             const std::vector<sql::QualifiedName> &tables, bool whole_database,
                                             const std::vector<std::string> &exclude_schemas,
                                             const SequenceBaseline *baseline,
                                             const std::function<void()> &between_tables) {
  std::set<sql::QualifiedName> wanted(tables.begin(), tables.end());
  std::vector<catalog::SequenceDef> dst_seqs = catalog::load_sequences(dst, exclude_schemas);
  std::vector<SequenceVerdict> out;
  bool first = true;
  for (const catalog::SequenceDef &s : catalog::load_sequences(src, exclude_schemas)) {
    if (!first && between_tables) between_tables();
    first = false;
    if (!whole_database && !s.feeds_any(wanted)) continue;
    SequenceVerdict v;
    v.sequence = s.name.display();
    v.table = s.fed_list();
    auto d = std::find_if(dst_seqs.begin(), dst_seqs.end(), [&](const auto &x) { return x.name == s.name; });
    std::optional<catalog::SequenceState> from;
    if (baseline) {
      auto b = baseline->find(s.name.display());
      if (b != baseline->end()) from = b->second;
    }
    if (!from) from = catalog::read_sequence(src, s.name);
    if (d == dst_seqs.end() || !from) {
      v.ok = false;
      v.problem = "missing on the target";
      out.push_back(v);
      continue;
    }
    auto to = catalog::read_sequence(dst, s.name);
    v.source_value = from->last_value;
    v.target_value = to->last_value;
    auto problem = [&](const std::string &p) {
      v.ok = false;
      v.problem += (v.problem.empty() ? "" : "; ") + p;
    };
    if (s.cycle) {
      if (from->last_value != to->last_value || from->is_called != to->is_called)
        problem("a CYCLE sequence must stand where the source's stands");
      out.push_back(v);
      continue;
    }
    sequences::i128 next = sequences::next_value(s, *to), source_next = sequences::next_value(s, *from);
    if (next != source_next && !sequences::beyond(s, next, source_next)) problem("stands behind the source");
    const bool up = s.increment > 0;
    for (const sequences::ColumnExtreme &e : sequences::column_extremes(dst, s)) {
      if (v.column_max.empty() || sequences::beyond(s, e.value, std::stoll(v.column_max)))
        v.column_max = std::to_string(e.value);
      // An exhausted sequence (next past its bound) hands out nothing more.
      bool exhausted = up ? next > s.max : next < s.min;
      if (!exhausted && !sequences::beyond(s, next, e.value))
        problem("the next value " + str(next) + " would collide with " + (up ? "max(" : "min(") + e.column +
                ") = " + std::to_string(e.value));
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace pgcutover::verify
