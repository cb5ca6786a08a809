// Follow mode's apply, one connection (see apply.hpp).
#include "pgcutover/follow/apply.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "pgcutover/pg/copy_stream.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/follow.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::follow {

using logical::ValueKind;

namespace {

pg::Param param(const OwnedValue &v, const std::string &table, const std::string &column) {
  switch (v.kind) {
    case ValueKind::Null: return std::nullopt;
    case ValueKind::Text: return v.bytes;
    default:
      throw_internal(fmt::format("a {} value of {}.{} given to the applier as a parameter",
                                 v.kind == ValueKind::Binary ? "binary" : "unchanged", table, column));
  }
}

// "(k1=v1, k2=v2)" for messages; values cut at 64 bytes.
std::string key_text(const std::vector<std::string> &key, const std::vector<int> &pos, const OwnedRow &row) {
  std::string out = "(";
  for (size_t i = 0; i < key.size(); ++i) {
    const OwnedValue &v = row.at(static_cast<size_t>(pos[i]));
    out += (i ? ", " : "") + key[i] + "=" + (v.kind == ValueKind::Null ? "NULL" : v.bytes.substr(0, 64));
  }
  return out + ")";
}

}  // namespace

void append_copy_text(std::string &out, const OwnedValue &v) {
  if (v.kind == ValueKind::Null || v.kind == ValueKind::Unchanged) {
    out += "\\N";
    return;
  }
  if (v.kind != ValueKind::Text) throw_internal("a binary value given to the text stage");
  for (char c : v.bytes) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out.push_back(c);
    }
  }
}

Applier::Applier(pg::Connection &target, std::unordered_map<std::string, std::vector<std::string>> key_columns)
    : dst_(target), key_columns_(std::move(key_columns)) {}

const Applier::Rel &Applier::rel(u32 oid) const {
  auto it = rels_.find(oid);
  if (it == rels_.end())
    throw Error(ErrorKind::DataFormat, fmt::format("a change of relation {} before its Relation message", oid));
  return it->second;
}

void Applier::message(const logical::Message &m) {
  if (auto *r = std::get_if<logical::Relation>(&m)) {
    Rel rel;
    rel.name = {r->nspname, r->relname};
    for (const auto &c : r->columns) rel.columns.push_back(c.name);
    if (auto it = key_columns_.find(rel.name.display()); it != key_columns_.end()) {
      rel.key = it->second;
    } else {
      for (const auto &c : r->columns)
        if (c.key) rel.key.push_back(c.name);
    }
    for (const std::string &k : rel.key) {
      auto at = std::find(rel.columns.begin(), rel.columns.end(), k);
      if (at == rel.columns.end())
        throw Error(ErrorKind::Usage,
                    fmt::format("the followed table {}: its key column {} is not among the columns the stream sends",
                                rel.name.display(), k),
                    "publish every column of the key (a publication's column list must include it)");
      rel.key_pos.push_back(static_cast<int>(at - rel.columns.begin()));
    }
    if (rel.key.empty() || (r->replica_identity == 'f' && !key_columns_.count(rel.name.display())))
      throw Error(ErrorKind::Usage,
                  fmt::format("the followed table {} has no key the applier can match its rows by",
                              rel.name.display()),
                  "give it a primary key, or leave it to the watermark sync");
    if (auto old = rels_.find(r->oid); old != rels_.end() && old->second.columns != rel.columns &&
                                       std::any_of(changes_.begin(), changes_.end(),
                                                   [&](const Change &c) { return c.relation == r->oid; }))
      throw Error(ErrorKind::Usage,
                  fmt::format("the columns of {} changed on the source while follow mode carried its changes",
                              rel.name.display()),
                  "follow mode does not apply schema changes yet: stop it, change the target's table the same "
                  "way, and let the watermark sync carry that table");
    folder_.relation(*r, rel.key_pos);
    rels_[r->oid] = std::move(rel);
  } else if (std::get_if<logical::Begin>(&m)) {
    in_txn_ = true;
  } else if (std::get_if<logical::Commit>(&m)) {
    in_txn_ = false;
  } else if (auto *ins = std::get_if<logical::Insert>(&m)) {
    folder_.fold(m);
    changes_.push_back({'I', ins->relation, {}, own_row(ins->row), false});
    ++pending_changes_;
  } else if (auto *up = std::get_if<logical::Update>(&m)) {
    folder_.fold(m);
    changes_.push_back({'U', up->relation, own_row(up->old_row), own_row(up->row), up->old_kind != 0});
    ++pending_changes_;
  } else if (auto *del = std::get_if<logical::Delete>(&m)) {
    folder_.fold(m);
    changes_.push_back({'D', del->relation, own_row(del->old_row), {}, true});
    ++pending_changes_;
  } else if (auto *t = std::get_if<logical::Truncate>(&m)) {
    truncate(*t);
  }
}

void Applier::apply_pending() {
  if (in_txn_) throw_internal("apply_pending() inside a transaction of the stream");
  std::vector<FoldedTable> tables = folder_.take();
  if (tables.empty()) return;
  {
    pg::Transaction tx(dst_);
    for (const FoldedTable &t : tables) {
      if (t.ordered)
        replay_ordered(t.relation);
      else
        apply_folded(t);
    }
    tx.commit();
  }
  stats_.changes += pending_changes_;
  ++stats_.batches;
  changes_.clear();
  pending_changes_ = 0;
}

void Applier::apply_folded(const FoldedTable &t) {
  const Rel &r = rel(t.relation);
  const std::string stage = fmt::format("pgcutover_apply_{}", ++stage_serial_);
  dst_.exec(sql::follow::create_stage(stage, r.name, r.columns));
  i64 deletes = 0, partials = 0, upserts = 0;
  {
    pg::CopyIn in(dst_, sql::follow::copy_into_stage(stage, r.columns));
    std::string buf;
    for (const std::string &k : t.order) {
      const FoldedKey &fk = t.keys.at(k);
      const OwnedRow &row = fk.row;
      const char action = fk.action == KeyAction::Delete ? 'd' : fk.partial() ? 'p' : 'u';
      for (size_t i = 0; i < r.columns.size(); ++i) {
        if (i) buf.push_back('\t');
        if (i < row.size()) append_copy_text(buf, row[i]);
        else buf += "\\N";
      }
      buf.push_back('\t');
      buf.push_back(action);
      buf.push_back('\t');
      if (action == 'p') {
        buf.push_back('{');
        for (size_t i = 0; i < row.size(); ++i) buf += (i ? "," : "") + std::string(row[i].kind == ValueKind::Unchanged ? "t" : "f");
        buf.push_back('}');
      } else {
        buf += "\\N";
      }
      buf.push_back('\n');
      (action == 'd' ? deletes : action == 'p' ? partials : upserts)++;
      if (buf.size() >= 256 * 1024) {
        in.put(buf);
        buf.clear();
      }
    }
    if (!buf.empty()) in.put(buf);
    in.finish();
  }
  if (deletes) stats_.deleted += dst_.exec(sql::follow::delete_staged(r.name, stage, r.key)).affected_rows();
  if (partials) {
    const i64 n = dst_.exec(sql::follow::update_staged_partial(r.name, stage, r.columns, r.key)).affected_rows();
    if (n != partials)
      throw Error(ErrorKind::Permanent,
                  fmt::format("{} of {} rows of {} that the source updated without sending their unchanged (TOAST) "
                              "values are missing on the target",
                              partials - n, partials, r.name.display()),
                  "the target's table has drifted from the source: run verify --repair on it, then follow again");
    stats_.updated += n;
  }
  if (upserts) stats_.upserted += dst_.exec(sql::follow::upsert_staged(r.name, stage, r.columns, r.key)).affected_rows();
}

void Applier::replay_ordered(u32 relation) {
  const Rel &r = rel(relation);
  const std::string table = r.name.display();
  for (const Change &c : changes_) {
    if (c.relation != relation) continue;
    ++stats_.ordered_changes;
    if (c.kind == 'I') {
      std::vector<pg::Param> p;
      for (size_t i = 0; i < r.columns.size(); ++i) p.push_back(param(c.row.at(i), table, r.columns[i]));
      dst_.query(sql::follow::upsert_row(r.name, r.columns, r.key), p);
      ++stats_.upserted;
    } else if (c.kind == 'D') {
      std::vector<pg::Param> p;
      for (int k : r.key_pos) p.push_back(param(c.old_row.at(static_cast<size_t>(k)), table, r.columns[k]));
      stats_.deleted += dst_.query(sql::follow::delete_row(r.name, r.key), p).affected_rows();
    } else {
      const OwnedRow &key_row = c.old_sent ? c.old_row : c.row;
      std::vector<std::string> set;
      std::vector<pg::Param> p;
      bool unchanged = false;
      for (size_t i = 0; i < r.columns.size(); ++i) {
        if (c.row.at(i).kind == ValueKind::Unchanged) {
          unchanged = true;
          continue;
        }
        set.push_back(r.columns[i]);
        p.push_back(param(c.row[i], table, r.columns[i]));
      }
      for (int k : r.key_pos) p.push_back(param(key_row.at(static_cast<size_t>(k)), table, r.columns[k]));
      const i64 n = dst_.query(sql::follow::update_row(r.name, set, r.key), p).affected_rows();
      if (n == 1) {
        ++stats_.updated;
        continue;
      }
      if (unchanged)
        throw Error(ErrorKind::Permanent,
                    fmt::format("the row {} of {}, which the source updated without sending its unchanged (TOAST) "
                                "values, is missing on the target",
                                key_text(r.key, r.key_pos, key_row), table),
                    "the target's table has drifted from the source: run verify --repair on it, then follow again");
      std::vector<pg::Param> all;
      for (size_t i = 0; i < r.columns.size(); ++i) all.push_back(param(c.row.at(i), table, r.columns[i]));
      dst_.query(sql::follow::upsert_row(r.name, r.columns, r.key), all);
      ++stats_.upserted;
    }
  }
}

void Applier::truncate(const logical::Truncate &t) {
  // What came before it goes first (it may be earlier changes of the
  // TRUNCATE's own transaction: the target reaches the same state).
  const bool was_in_txn = in_txn_;
  in_txn_ = false;
  apply_pending();
  in_txn_ = was_in_txn;
  std::vector<sql::QualifiedName> names;
  for (u32 oid : t.relations) names.push_back(rel(oid).name);
  dst_.exec(sql::follow::truncate_tables(names));
  ++stats_.truncates;
}

}  // namespace pgcutover::follow
