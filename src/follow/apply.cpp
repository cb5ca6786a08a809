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

Applier::Applier(pg::Connection &target, ApplyOptions options) : dst_(target), opt_(std::move(options)) {
  try {
    dst_.exec(sql::follow::replica_role());
  } catch (const Error &e) {
    throw Error(ErrorKind::Usage,
                "follow mode's applier cannot set session_replication_role = replica on the target as " +
                    dst_.role() + ": " + e.what(),
                "apply as a superuser, or GRANT SET ON PARAMETER session_replication_role to the role (15+)");
  }
  if (opt_.tool_schema.raw.empty()) return;
  if (opt_.slot.empty()) throw_internal("an applier keeping its position needs the slot's name");
  dst_.exec(sql::follow::create_applied(opt_.tool_schema));
  pg::Result r = dst_.query(sql::follow::read_applied(opt_.tool_schema), {opt_.slot});
  if (r.rows() == 1) applied_ = logical::Lsn::parse(r.get(0, 0));
}

const Applier::Rel &Applier::rel(u32 oid) const {
  auto it = rels_.find(oid);
  if (it == rels_.end())
    throw Error(ErrorKind::DataFormat, fmt::format("a change of relation {} before its Relation message", oid));
  return it->second;
}

// A Relation message checked against the target's table.
Applier::Rel Applier::describe(const logical::Relation &r) {
  Rel rel;
  rel.desc = r;
  rel.name = {r.nspname, r.relname};
  const std::string table = rel.name.display();
  for (const auto &c : r.columns) {
    if (c.name == sql::follow::STAGE_ACTION || c.name == sql::follow::STAGE_UNCHANGED)
      throw Error(ErrorKind::Usage, fmt::format("the followed table {} has a column named {}, which the applier uses itself",
                                                table, c.name),
                  "leave this table to the watermark sync");
    rel.columns.push_back(c.name);
  }
  std::vector<std::string> flagged;
  for (const auto &c : r.columns)
    if (c.key) flagged.push_back(c.name);
  if (auto it = opt_.key_columns.find(table); it != opt_.key_columns.end()) {
    rel.key = it->second;
    // Without FULL, the old row carries only the replica identity's columns:
    // a key outside them could not be matched on deletes and key changes.
    for (const std::string &k : rel.key)
      if (r.replica_identity != 'f' && std::find(flagged.begin(), flagged.end(), k) == flagged.end())
        throw Error(ErrorKind::Usage,
                    fmt::format("the followed table {} is matched by {}, which its replica identity does not cover",
                                table, k),
                    "match it by its replica identity's columns, or set REPLICA IDENTITY FULL on the source");
  } else {
    if (r.replica_identity == 'f')
      throw Error(ErrorKind::Usage,
                  fmt::format("the followed table {} has REPLICA IDENTITY FULL and no key given to match its rows by",
                              table),
                  "give it a primary key, or leave it to the watermark sync");
    rel.key = flagged;
  }
  if (rel.key.empty())
    throw Error(ErrorKind::Usage, fmt::format("the followed table {} has no key the applier can match its rows by", table),
                "give it a primary key, or leave it to the watermark sync");
  for (const std::string &k : rel.key) {
    auto at = std::find(rel.columns.begin(), rel.columns.end(), k);
    if (at == rel.columns.end())
      throw Error(ErrorKind::Usage,
                  fmt::format("the followed table {}: its key column {} is not among the columns the stream sends",
                              table, k),
                  "publish every column of the key (a publication's column list must include it)");
    rel.key_pos.push_back(static_cast<int>(at - rel.columns.begin()));
  }
  // The target's columns: base types for the stage, identity ALWAYS, generated.
  pg::Result t = dst_.query(sql::follow::target_columns(dst_.server_version()), {r.nspname, r.relname});
  if (t.rows() == 0)
    throw Error(ErrorKind::Usage, fmt::format("the target has no table {}, which follow mode carries", table),
                "create it on the target (copy does), then follow again");
  std::string shape;
  for (const std::string &c : rel.columns) {
    int row = -1;
    for (int i = 0; i < t.rows(); ++i)
      if (t.get(i, 0) == c) row = i;
    if (row < 0)
      throw Error(ErrorKind::Usage, fmt::format("the target's table {} has no column {}, which the source sends", table, c),
                  "add the column on the target the way the source has it, then follow again");
    if (t.get_bool(row, 3))
      throw Error(ErrorKind::Usage,
                  fmt::format("the column {} of {} is generated on the target, and the stream sends its values", c, table),
                  "leave generated columns out of the publication (publish_generated_columns = false)");
    rel.types.emplace_back(t.get(row, 1));
    if (!t.get_bool(row, 2)) rel.settable.push_back(c);
    shape += c + " " + rel.types.back() + ",";
  }
  rel.stage = fmt::format("pgcutover_apply_{}_{:08x}", r.oid, static_cast<u32>(std::hash<std::string>{}(shape)));
  return rel;
}

void Applier::message(const logical::Message &m) {
  if (broken_) throw_internal("an applier used again after it failed");
  try {
    if (auto *r = std::get_if<logical::Relation>(&m)) {
      auto old = rels_.find(r->oid);
      if (old != rels_.end()) {
        const logical::Relation &was = old->second.desc;
        bool same = was.nspname == r->nspname && was.relname == r->relname &&
                    was.replica_identity == r->replica_identity && was.columns.size() == r->columns.size();
        for (size_t i = 0; same && i < r->columns.size(); ++i)
          same = was.columns[i].name == r->columns[i].name && was.columns[i].type == r->columns[i].type &&
                 was.columns[i].typmod == r->columns[i].typmod && was.columns[i].key == r->columns[i].key;
        if (same) return;  // described again (every spool segment begins with the descriptions)
        if (std::any_of(changes_.begin(), changes_.end(), [&](const Change &c) { return c.relation == r->oid; }))
          throw Error(ErrorKind::Usage,
                      fmt::format("the table {} changed on the source (its columns, their types or its replica "
                                  "identity) while follow mode carried its changes",
                                  old->second.name.display()),
                      "follow mode does not apply schema changes yet: stop it, change the target's table the same "
                      "way, and let the watermark sync carry that table");
      }
      Rel rel = describe(*r);
      folder_.relation(*r, rel.key_pos);
      rels_[r->oid] = std::move(rel);
    } else if (auto *b = std::get_if<logical::Begin>(&m)) {
      in_txn_ = true;
      // Its commit starts before the recorded end: applied before.
      passing_ = b->final_lsn < std::max(applied_, pending_end_);
      if (passing_) ++stats_.transactions_passed;
    } else if (auto *c = std::get_if<logical::Commit>(&m)) {
      in_txn_ = false;
      if (!passing_) pending_end_ = std::max(pending_end_, c->end_lsn);
      passing_ = false;
    } else if (passing_) {
      return;
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
  } catch (...) {
    broken_ = true;
    tx_.reset();  // rolls the batch back
    throw;
  }
}

void Applier::open_transaction() {
  if (!tx_) tx_.emplace(dst_);
}

// The folded changes so far, written in the batch's transaction (not committed).
void Applier::flush_folded() {
  std::vector<FoldedTable> tables = folder_.take();
  if (tables.empty()) return;
  open_transaction();
  for (const FoldedTable &t : tables) {
    try {
      if (t.ordered) {
        replay_ordered(t.relation);
        continue;
      }
      // As sets, unless a unique value moved between rows (a swap through a
      // third value in one source transaction): then in order.
      dst_.exec(sql::follow::savepoint_sets());
      try {
        apply_folded(t);
      } catch (const Error &e) {
        if (e.sqlstate != "23505" && e.sqlstate != "23P01") throw;  // unique or exclusion violation
        dst_.exec(sql::follow::rollback_to_sets());
        staged_.erase(rel(t.relation).stage);  // made under the savepoint, perhaps
        ++stats_.unique_fallbacks;
        log::debug("applying {} as sets met {}: replayed in order", rel(t.relation).name.display(), e.what());
        replay_ordered(t.relation);
      }
      dst_.exec(sql::follow::release_sets());
    } catch (Error &e) {
      if (e.table.empty()) e.table = rel(t.relation).name.display();
      throw;
    }
  }
  stats_.changes += pending_changes_;
  pending_changes_ = 0;
  changes_.clear();
}

void Applier::apply_pending() {
  if (broken_) throw_internal("an applier used again after it failed");
  if (in_txn_) throw_internal("apply_pending() inside a transaction of the stream");
  try {
    flush_folded();
    const bool record = !opt_.tool_schema.raw.empty() && pending_end_ > applied_;
    if (record) {
      open_transaction();
      dst_.query(sql::follow::record_applied(opt_.tool_schema), {opt_.slot, pending_end_.text()});
    }
    if (!tx_) return;
    tx_->commit();
    tx_.reset();
    staged_in_tx_.clear();
    ++stats_.batches;
    if (pending_end_ > applied_) applied_ = pending_end_;
  } catch (...) {
    broken_ = true;
    tx_.reset();
    throw;
  }
}

void Applier::apply_folded(const FoldedTable &t) {
  const Rel &r = rel(t.relation);
  const std::string &stage = r.stage;
  if (staged_.insert(stage).second)  // once per session and table shape; emptied at each commit
    dst_.exec(sql::follow::create_stage(stage, r.columns, r.types));
  else if (!staged_in_tx_.insert(stage).second)  // staged before in this transaction (a TRUNCATE came between)
    dst_.exec(sql::follow::empty_stage(stage));
  staged_in_tx_.insert(stage);
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
    const i64 n = dst_.exec(sql::follow::update_staged_partial(r.name, stage, r.columns, r.key, r.settable)).affected_rows();
    if (n != partials)
      throw Error(ErrorKind::Permanent,
                  fmt::format("{} of {} rows of {} that the source updated without sending their unchanged (TOAST) "
                              "values are missing on the target",
                              partials - n, partials, r.name.display()),
                  "the target's table has drifted from the source: run verify --repair on it, then follow again");
    stats_.updated += n;
  }
  if (upserts)
    stats_.upserted += dst_.exec(sql::follow::upsert_staged(r.name, stage, r.columns, r.key, r.settable)).affected_rows();
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
      dst_.query(sql::follow::upsert_row(r.name, r.columns, r.key, r.settable), p);
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
        if (std::find(r.settable.begin(), r.settable.end(), r.columns[i]) == r.settable.end()) continue;
        set.push_back(r.columns[i]);
        p.push_back(param(c.row[i], table, r.columns[i]));
      }
      for (int k : r.key_pos) p.push_back(param(key_row.at(static_cast<size_t>(k)), table, r.columns[k]));
      if (c.old_sent)
        for (int k : r.key_pos)
          if (!(c.old_row.at(static_cast<size_t>(k)) == c.row.at(static_cast<size_t>(k))) &&
              std::find(r.settable.begin(), r.settable.end(), r.columns[k]) == r.settable.end())
            throw Error(ErrorKind::Usage,
                        fmt::format("a row of {} changed its key column {}, which is GENERATED ALWAYS AS IDENTITY on "
                                    "the target and cannot be assigned by an update",
                                    table, r.columns[k]),
                        "make the target's column GENERATED BY DEFAULT while following, or leave the table to the "
                        "watermark sync");
      if (set.empty()) continue;  // nothing the target can be given
      const i64 n = dst_.query(sql::follow::update_row(r.name, set, r.key), p).affected_rows();
      if (n == 1) {
        ++stats_.ordered_updated;
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
      dst_.query(sql::follow::upsert_row(r.name, r.columns, r.key, r.settable), all);
      ++stats_.upserted;
    }
  }
}

void Applier::truncate(const logical::Truncate &t) {
  // What came before it goes first, in the same target transaction, which
  // commits only at a source transaction's end.
  flush_folded();
  open_transaction();
  std::vector<sql::QualifiedName> names;
  for (u32 oid : t.relations) names.push_back(rel(oid).name);
  dst_.exec(sql::follow::truncate_tables(names));
  ++stats_.truncates;
}

}  // namespace pgcutover::follow
