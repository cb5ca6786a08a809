// Follow mode's batches folded per key (see fold.hpp).
#include "pgcutover/follow/fold.hpp"

#include <fmt/format.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::follow {

using logical::ValueKind;

namespace {

// Unchanged values of `row` taken from `earlier` (a full or partial row of
// the same relation); those `earlier` does not know either stay Unchanged.
void fill_unchanged(OwnedRow &row, const OwnedRow &earlier) {
  for (size_t i = 0; i < row.size() && i < earlier.size(); ++i)
    if (row[i].kind == ValueKind::Unchanged) row[i] = earlier[i];
}

bool has_unchanged(const OwnedRow &row) {
  for (const OwnedValue &v : row)
    if (v.kind == ValueKind::Unchanged) return true;
  return false;
}

}  // namespace

OwnedRow own_row(const logical::Tuple &t) {
  OwnedRow r;
  r.reserve(t.size());
  for (const logical::Value &v : t) r.push_back({v.kind, std::string(v.bytes)});
  return r;
}

bool FoldedKey::partial() const { return action == KeyAction::Upsert && has_unchanged(row); }

std::string key_bytes(const logical::Tuple &row, const std::vector<int> &key) {
  std::string out;
  for (int i : key) {
    const logical::Value &v = row.at(static_cast<size_t>(i));
    out.push_back(static_cast<char>(v.kind));
    const u32 n = static_cast<u32>(v.bytes.size());
    out.append(reinterpret_cast<const char *>(&n), sizeof n);
    out.append(v.bytes);
  }
  return out;
}

Folder::Folder(std::unordered_map<u32, std::vector<int>> key_columns) : key_columns_(std::move(key_columns)) {}

void Folder::relation(const logical::Relation &r, std::vector<int> key) {
  Rel rel{r, std::move(key)};
  if (rel.key.empty()) {
    if (auto it = key_columns_.find(r.oid); it != key_columns_.end()) {
      rel.key = it->second;
    } else {
      for (size_t i = 0; i < r.columns.size(); ++i)
        if (r.columns[i].key) rel.key.push_back(static_cast<int>(i));
    }
  }
  for (int i : rel.key)
    if (i < 0 || static_cast<size_t>(i) >= r.columns.size())
      throw_internal(fmt::format("key column {} of {}.{} is out of its {} columns", i, r.nspname, r.relname,
                                 r.columns.size()));
  if (rel.key.empty())
    throw Error(ErrorKind::Usage,
                fmt::format("the followed table {}.{} has no key its rows can be matched by", r.nspname, r.relname),
                "give it a primary key or a replica identity, or leave it to the watermark sync");
  rels_[r.oid] = std::move(rel);
}

const Folder::Rel &Folder::rel(u32 relation) const {
  auto it = rels_.find(relation);
  if (it == rels_.end())
    throw Error(ErrorKind::DataFormat, fmt::format("a change of relation {} before its Relation message", relation));
  return it->second;
}

FoldedTable &Folder::table(u32 relation) {
  auto [it, fresh] = table_index_.try_emplace(relation, tables_.size());
  if (fresh) tables_.push_back(FoldedTable{relation, {}, {}, false, 0});
  return tables_[it->second];
}

void Folder::fold(const logical::Message &change) {
  auto check_width = [](const Rel &r, const logical::Tuple &t) {
    if (t.size() != r.desc.columns.size())
      throw Error(ErrorKind::DataFormat, fmt::format("a row of {}.{} with {} columns, its Relation has {}",
                                                     r.desc.nspname, r.desc.relname, t.size(), r.desc.columns.size()));
  };
  auto set = [](FoldedTable &t, std::string key, FoldedKey action) {
    auto [it, fresh] = t.keys.try_emplace(key, std::move(action));
    if (fresh)
      t.order.push_back(std::move(key));
    else
      it->second = std::move(action);
  };
  if (auto *ins = std::get_if<logical::Insert>(&change)) {
    const Rel &r = rel(ins->relation);
    check_width(r, ins->row);
    FoldedTable &t = table(ins->relation);
    set(t, key_bytes(ins->row, r.key), {KeyAction::Upsert, own_row(ins->row)});
    ++t.changes;
  } else if (auto *up = std::get_if<logical::Update>(&change)) {
    const Rel &r = rel(up->relation);
    check_width(r, up->row);
    FoldedTable &t = table(up->relation);
    std::string new_key = key_bytes(up->row, r.key);
    std::string old_key = new_key;
    if (up->old_kind) {
      check_width(r, up->old_row);
      old_key = key_bytes(up->old_row, r.key);
    }
    OwnedRow row = own_row(up->row);
    if (auto it = t.keys.find(old_key); it != t.keys.end() && it->second.action == KeyAction::Upsert)
      fill_unchanged(row, it->second.row);
    if (old_key != new_key) {
      set(t, old_key, {KeyAction::Delete, own_row(up->old_row)});
      if (has_unchanged(row)) t.ordered = true;  // the values are only in the row the batch deletes
    } else if (auto it = t.keys.find(old_key); it != t.keys.end() && it->second.action == KeyAction::Delete &&
                                               has_unchanged(row)) {
      t.ordered = true;  // an update of a key the batch deleted: out of the ordinary, replayed as it came
    }
    set(t, std::move(new_key), {KeyAction::Upsert, std::move(row)});
    ++t.changes;
  } else if (auto *del = std::get_if<logical::Delete>(&change)) {
    const Rel &r = rel(del->relation);
    check_width(r, del->old_row);
    FoldedTable &t = table(del->relation);
    set(t, key_bytes(del->old_row, r.key), {KeyAction::Delete, own_row(del->old_row)});
    ++t.changes;
  } else if (std::get_if<logical::Truncate>(&change)) {
    throw_internal("a TRUNCATE given to the folder: it is a barrier, applied alone");
  } else {
    throw_internal(std::string("not a change: ") + logical::kind_name(change));
  }
  ++changes_;
}

std::vector<FoldedTable> Folder::take() {
  std::vector<FoldedTable> out = std::move(tables_);
  tables_.clear();
  table_index_.clear();
  changes_ = 0;
  return out;
}

}  // namespace pgcutover::follow
