#include "pgcutover/plan/plan.hpp"
#include "pgcutover/plan/shape_checks.hpp"

#include <algorithm>

#include "pgcutover/plan/encoding_checks.hpp"
#include "pgcutover/plan/fk_parents.hpp"
#include "pgcutover/plan/source_checks.hpp"
#include "pgcutover/plan/version_checks.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::plan {

FormatChoice parse_format(const std::string &t) {
  if (t == "auto") return FormatChoice::Auto;
  if (t == "binary") return FormatChoice::Binary;
  if (t == "text") return FormatChoice::Text;
  throw_usage("unknown format '" + t + "'", "use auto, binary or text");
}

i64 Plan::total_bytes() const {
  i64 n = 0;
  for (const TablePlan &t : tables) n += t.table.total_bytes();
  return n;
}

i64 Plan::total_ranges() const {
  i64 n = 0;
  for (const TablePlan &t : tables) n += static_cast<i64>(t.ranges.size());
  return n;
}

namespace {

// Every column the source copies must exist on the target with the same type
// (binary COPY would take e.g. jsonb bytes into a text column without a word),
// and every target-only column must be able to stay empty.
std::string compare_columns(const catalog::TableDef &src, const catalog::TableDef &dst) {
  std::string problems;
  auto add = [&](const std::string &p) { problems += (problems.empty() ? "" : "; ") + p; };
  for (const catalog::ColumnDef &c : src.columns) {
    const catalog::ColumnDef *d = dst.find_column(c.name);
    if (!d) add("column \"" + c.name + "\" is missing on the target");
    else if (d->type != c.type) add("column \"" + c.name + "\" is " + c.type + " on the source but " + d->type + " on the target");
  }
  for (const catalog::ColumnDef &d : dst.columns)
    if (!src.find_column(d.name) && d.not_null && !d.has_default)
      add("target column \"" + d.name + "\" is NOT NULL without a default and does not exist on the source");
  return problems;
}

// Which key columns range predicates and key orderings compare under
// COLLATE "C" (see sql::KeySpec), and why: every collatable one, unless it
// sorts bytewise on both servers already, or both order it alike (the same
// provider, locale and recorded library version). Then the plain comparison
// is the same on both sides and keeps the key index; otherwise the explicit
// COLLATE makes both servers agree at the price of index use for ranges.
struct KeyOrder {
  std::vector<bool> collate_c;
  std::string rule;
};

// A table the copy creates takes the target database's default when its
// column uses its database's default; a named collation's order on the
// target is not known before the table exists (so COLLATE "C").
KeyOrder key_order(const catalog::TableDef &src, const catalog::TableDef *dst, const catalog::Catalog &dst_cat) {
  KeyOrder out;
  bool any = false, all_c = true, all_same = true;
  std::string differ;
  for (const std::string &k : src.key) {
    const catalog::ColumnDef *c = src.find_column(k);
    if (!c || !c->collatable) {
      out.collate_c.push_back(false);
      continue;
    }
    any = true;
    const catalog::ColumnDef *d = dst ? dst->find_column(k) : nullptr;
    bool target_c = d ? d->c_order : c->default_collation ? dst_cat.default_collation_c : c->c_order;
    std::string target_order = d ? d->collation_order : c->default_collation ? dst_cat.default_collation_order : "";
    bool both_c = c->c_order && target_c;
    // The same collation, provider, locale and library version on both servers.
    bool same = !both_c && !target_order.empty() && target_order == c->collation_order &&
                c->collation_order.find("//") == std::string::npos && c->collation_order.back() != '/' &&
                c->collation_order.find("/nondeterministic") == std::string::npos;
    out.collate_c.push_back(!both_c && !same);
    all_c = all_c && both_c;
    all_same = all_same && (both_c || same);
    if (!both_c && !same && differ.empty())
      differ = "\"" + k + "\": source " + c->collation_order + ", target " +
               (target_order.empty() ? std::string("not known before the table is created") : target_order);
  }
  if (!any) return out;
  if (all_c) out.rule = "text key sorted bytewise (C) on both servers: the key index serves ranges";
  else if (all_same) out.rule = "text key in the same collation on both servers (" +
                                src.find_column(src.key[0])->collation_order + "): the key index serves ranges";
  else out.rule = "text key ordered differently on the two servers (" + differ +
                  "; provider/locale/version): copy and sync cut and read ranges in the source's order through its "
                  "key index; verify and delete detection read each side once, unordered, and compare rows summed "
                  "into buckets by a hash of the key (a second read finds the keys of differing buckets), since "
                  "ranges both servers evaluate would each read the whole table under COLLATE \"C\"";
  return out;
}

bool same_key(const catalog::TableDef &a, const catalog::TableDef &b) {
  std::vector<std::string> x = a.key, y = b.key;
  std::sort(x.begin(), x.end());
  std::sort(y.begin(), y.end());
  return x == y;
}

}  // namespace

bool has_source_order_ranges(const TablePlan &table) {
  return std::ranges::any_of(table.ranges, [](const KeyRange &r) { return r.source_order; });
}

std::string describe_key(const catalog::TableDef &t) {
  if (!t.has_key()) return "no key (no primary key, no unique index over NOT NULL columns)";
  std::string cols;
  for (const std::string &k : t.key) cols += (cols.empty() ? "" : ", ") + k;
  return (t.key_is_primary ? "primary key " : "unique index ") + t.key_index + " (" + cols + ")" +
         (t.key_is_primary ? "" : " over NOT NULL columns, standing in for a primary key");
}

Plan build_plan(pg::Connection &src, pg::Connection &dst, const BuildOptions &opt) {
  Plan plan;
  plan.whole_database = opt.tables.empty();
  plan.source_version = src.server_version();
  plan.target_version = dst.server_version();
  check_source_version(plan.source_version);
  catalog::Catalog read_src, read_dst;
  if (!opt.source_catalog) read_src = catalog::load_catalog(src, opt.exclude_schemas);
  if (!opt.target_catalog) read_dst = catalog::load_catalog(dst, opt.exclude_schemas);
  const catalog::Catalog &src_cat = opt.source_catalog ? *opt.source_catalog : read_src;
  const catalog::Catalog &dst_cat = opt.target_catalog ? *opt.target_catalog : read_dst;
  plan.target_has_tables = !dst_cat.tables.empty();

  std::vector<catalog::TableDef> selected = catalog::select_tables(src_cat, opt.tables);
  if (opt.check_fk_parents) {
    std::vector<Refusal> gaps = resolve_fk_parents(src, dst, src_cat, dst_cat, selected, opt);
    plan.refused.insert(plan.refused.end(), gaps.begin(), gaps.end());
  }
  refuse_unreadable(src, selected, opt.exclude_schemas, plan.refused);  // privileges, row-level security
  refuse_unencodable(src, dst, selected, plan.refused);                 // text the target's encoding lacks
  // Downgrades: what the older target cannot hold, per column (version_checks.hpp).
  const std::set<u32> missing_types = builtin_types_missing(dst, selected, plan.source_version, plan.target_version);
  bool first = true;
  for (catalog::TableDef &t : selected) {
    if (!first && opt.between_tables) opt.between_tables();
    first = false;
    TablePlan tp;
    tp.table = std::move(t);
    const catalog::TableDef &table = tp.table;
    const catalog::TableDef *target = dst_cat.find(table.name);
    tp.target_exists = target != nullptr;
    KeyOrder order = key_order(table, target, dst_cat);
    tp.table.key_collate_c = std::move(order.collate_c);
    tp.key_order = std::move(order.rule);
    if (target) {
      std::string problems = compare_columns(table, *target);
      if (!problems.empty()) {
        plan.refused.push_back({table.name.display(), problems});
        continue;
      }
      tp.target_empty = opt.resume || std::ranges::find(opt.emptied, table.name) != opt.emptied.end() ||
                        catalog::table_is_empty(dst, *target);
    }
    std::string too_new = version_problems(src, table, plan.source_version, plan.target_version, missing_types);
    if (!too_new.empty()) {
      plan.refused.push_back({table.name.display(), too_new});
      continue;
    }

    // Format: binary unless a column has no portable binary form on either
    // side (type OIDs embedded, or a type without send/receive).
    const catalog::ColumnDef *text_col = table.text_only_column();
    if (!text_col && target) {
      const catalog::ColumnDef *t = target->text_only_column();
      if (t && table.find_column(t->name)) text_col = t;
    }
    if (opt.format == FormatChoice::Text) {
      tp.format = copybin::StreamFormat::Text;
      tp.format_reason = "--format text";
    } else if (text_col) {
      std::string why = "column \"" + text_col->name + "\" (" + text_col->type + "): " + text_col->text_reason();
      if (opt.format == FormatChoice::Binary) {
        plan.refused.push_back({table.name.display(), why + "; use --format auto or text"});
        continue;
      }
      tp.format = copybin::StreamFormat::Text;
      tp.format_reason = why;
    } else {
      tp.format = copybin::StreamFormat::Binary;
      tp.format_reason = "every column has a portable binary form";
    }

    // Strategy.
    bool fresh = !tp.target_exists || tp.target_empty;
    if (opt.strategy == merge::Strategy::Direct) {
      if (!fresh) {
        plan.refused.push_back({table.name.display(), "--strategy direct needs an empty target table, and this one has rows"});
        continue;
      }
      tp.strategy = merge::Strategy::Direct;
      tp.strategy_reason = "--strategy direct";
    } else if (opt.strategy == merge::Strategy::Merge) {
      tp.strategy = merge::Strategy::Merge;
      tp.strategy_reason = "--strategy merge";
    } else {
      tp.strategy = fresh ? merge::Strategy::Direct : merge::Strategy::Merge;
      tp.strategy_reason = !tp.target_exists ? "the copy creates the table" : tp.target_empty ? "the target table is empty" : "the target table has rows";
    }

    // Without a primary key rows cannot be matched or split: one range, into
    // an empty table (sync replaces such a table's rows as a whole).
    if (!table.has_key() && !opt.resume && tp.strategy == merge::Strategy::Merge && tp.target_exists) {
      plan.refused.push_back({table.name.display(), "no primary key, and the target table has rows: rows cannot be matched; add a primary key or empty the target table"});
      continue;
    }
    if (tp.strategy == merge::Strategy::Merge && !tp.target_exists) tp.strategy = merge::Strategy::Direct;
    // Rows are matched on the source's key: the target's table must not have
    // another one, and a table that is merged into needs it (its index is the
    // upsert's arbiter). A table without a key on the target is only filled,
    // or is one the job created whose key comes with its post-data (resume).
    bool other_key = target && target->has_key() && !same_key(table, *target);
    bool no_key_to_merge = target && !target->has_key() && !opt.resume && tp.strategy == merge::Strategy::Merge;
    if (table.has_key() && (other_key || no_key_to_merge)) {
      plan.refused.push_back({table.name.display(), "the key differs: on the source " + describe_key(table) +
                                                        ", on the target " + describe_key(*target) +
                                                        "; rows cannot be matched: give the target table the "
                                                        "source's key (or empty it and copy again)"});
      continue;
    }
    if (!tp.target_exists) {
      for (const catalog::TableDef *up = src_cat.find_oid(table.parent_oid); up; up = src_cat.find_oid(up->parent_oid))
        if (!dst_cat.find(up->name) &&
            std::find(plan.missing_ancestors.begin(), plan.missing_ancestors.end(), up->name) == plan.missing_ancestors.end())
          plan.missing_ancestors.push_back(up->name);
    }
    if (!opt.resume) tp.ranges = plan_ranges(src, table, opt.ranges);
    plan.tables.push_back(std::move(tp));
  }
  check_shapes(src, dst, plan);  // partitions, generated columns: plan/shape_checks.cpp
  return plan;
}

void check_refusals(const Plan &plan) {
  if (plan.refused.empty()) return;
  std::string msg = std::to_string(plan.refused.size()) + " table(s) cannot be copied:";
  for (const Refusal &r : plan.refused) msg += "\n  " + r.table + ": " + r.reason;
  throw_usage(msg, "fix the tables above or leave them out with --table; `pgcutover plan` shows the full plan");
}

}  // namespace pgcutover::plan
