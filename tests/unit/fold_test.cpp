// Follow mode's fold (follow/fold): a batch's changes folded per key, then
// applied as sets (the deletes, then the upserts) must give the table the
// changes applied one by one give. Checked against a model on thousands of
// random valid change sequences (inserts, updates with and without a key
// change, unchanged TOAST values, deletes), plus the rules one by one.
#include "pgcutover/follow/fold.hpp"

#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::follow {
namespace {

namespace lg = logical;
using Row = std::vector<std::string>;  // id, a, big; "\x01u" marks an unchanged value in a change
const std::string U = "\x01u";

struct Store {  // keeps the bytes a Tuple points into
  std::vector<std::unique_ptr<std::string>> bytes;
  lg::Tuple tuple(const Row &r) {
    lg::Tuple t;
    for (const std::string &v : r) {
      if (v == U) {
        t.push_back({lg::ValueKind::Unchanged, {}});
      } else {
        bytes.push_back(std::make_unique<std::string>(v));
        t.push_back({lg::ValueKind::Text, *bytes.back()});
      }
    }
    return t;
  }
};

lg::Relation relation() {
  lg::Relation r;
  r.oid = 7;
  r.nspname = "public";
  r.relname = "t";
  r.columns = {{true, "id", 23, -1}, {false, "a", 25, -1}, {false, "big", 25, -1}};
  return r;
}

using Table = std::map<std::string, Row>;

// The folded batch applied as sets: every delete, then every upsert (a
// partial one fills its unchanged values from the row the target has).
// False when a partial upsert finds no row.
bool apply_folded(Table &target, const FoldedTable &ft) {
  std::vector<const FoldedKey *> upserts;
  for (const std::string &k : ft.order) {
    const FoldedKey &fk = ft.keys.at(k);
    if (fk.action == KeyAction::Delete) {
      // the key's bytes: kind, length, id
      target.erase(k.substr(5));
    } else {
      upserts.push_back(&fk);
    }
  }
  for (const FoldedKey *fk : upserts) {
    Row r;
    for (const OwnedValue &v : fk->row) r.push_back(v.kind == lg::ValueKind::Unchanged ? U : v.bytes);
    if (fk->partial()) {
      auto it = target.find(r[0]);
      if (it == target.end()) return false;
      for (size_t i = 0; i < r.size(); ++i)
        if (r[i] == U) r[i] = it->second[i];
    }
    target[r[0]] = r;
  }
  return true;
}

TEST(Fold, SetsGiveWhatChangesInOrderGiveOnRandomSequences) {
  std::mt19937 rng(20261208);
  int batches = 0, ordered = 0, partial = 0;
  for (int round = 0; round < 3000; ++round) {
    Table start;
    for (int k = 0; k < 8; ++k)
      if (rng() % 2) start[std::to_string(k)] = {std::to_string(k), "a0", "big" + std::to_string(k)};
    Table model = start;
    Store store;
    Folder folder;
    folder.relation(relation());
    const int changes = 1 + static_cast<int>(rng() % 12);
    int serial = 0;
    for (int c = 0; c < changes; ++c) {
      const std::string k = std::to_string(rng() % 8);
      const std::string v = "v" + std::to_string(++serial);
      if (!model.count(k)) {  // insert
        Row r{k, v, "big" + v};
        model[k] = r;
        folder.fold(lg::Insert{std::nullopt, 7, store.tuple(r)});
      } else if (rng() % 4 == 0) {  // delete
        folder.fold(lg::Delete{std::nullopt, 7, 'K', store.tuple({k, "", ""})});
        model.erase(k);
      } else {  // update, maybe moving the key, maybe leaving big unchanged
        std::string nk = k;
        if (rng() % 3 == 0) {
          const std::string cand = std::to_string(rng() % 8);
          if (!model.count(cand)) nk = cand;
        }
        const bool unchanged = rng() % 2;
        Row change{nk, v, unchanged ? U : "big" + v};
        Row next = change;
        if (unchanged) next[2] = model[k][2];
        model.erase(k);
        model[nk] = next;
        lg::Update u{std::nullopt, 7, nk != k ? 'K' : '\0', {}, store.tuple(change)};
        if (nk != k) u.old_row = store.tuple({k, "", ""});
        folder.fold(u);
      }
    }
    std::vector<FoldedTable> tables = folder.take();
    ASSERT_EQ(tables.size(), 1u);
    EXPECT_EQ(tables[0].changes, changes);
    ++batches;
    if (tables[0].ordered) {
      ++ordered;  // replayed change by change: nothing to check here
      continue;
    }
    for (auto &[key, fk] : tables[0].keys) partial += fk.partial();
    Table target = start;
    ASSERT_TRUE(apply_folded(target, tables[0])) << "round " << round << ": a partial upsert found no row";
    ASSERT_EQ(target, model) << "round " << round;
  }
  // The random sequences reach every case.
  EXPECT_GT(ordered, 50);
  EXPECT_LT(ordered, batches / 2);
  EXPECT_GT(partial, 500);
}

TEST(Fold, AKeyChangedManyTimesIsWrittenOnceAndAMoveWithUnchangedValuesIsOrdered) {
  Store store;
  Folder folder;
  folder.relation(relation());
  folder.fold(lg::Insert{std::nullopt, 7, store.tuple({"1", "a", "big"})});
  for (int i = 0; i < 100; ++i) folder.fold(lg::Update{std::nullopt, 7, 0, {}, store.tuple({"1", std::to_string(i), U})});
  std::vector<FoldedTable> t = folder.take();
  ASSERT_EQ(t.size(), 1u);
  ASSERT_EQ(t[0].keys.size(), 1u);
  const FoldedKey &k = t[0].keys.begin()->second;
  EXPECT_FALSE(k.partial()) << "the unchanged value was in the batch's own insert";
  EXPECT_EQ(k.row[1].bytes, "99");
  EXPECT_EQ(k.row[2].bytes, "big");
  EXPECT_FALSE(t[0].ordered);
  EXPECT_EQ(folder.changes(), 0) << "take() clears the batch";

  // A key moved with a value only the target's row holds.
  lg::Update move{std::nullopt, 7, 'K', store.tuple({"5", "", ""}), store.tuple({"6", "x", U})};
  folder.fold(move);
  t = folder.take();
  EXPECT_TRUE(t[0].ordered);
}

TEST(Fold, ChangesOutOfShapeAreRefused) {
  Store store;
  Folder folder;
  EXPECT_THROW(folder.fold(lg::Insert{std::nullopt, 7, store.tuple({"1", "a", "b"})}), Error) << "no Relation yet";
  folder.relation(relation());
  try {
    folder.fold(lg::Insert{std::nullopt, 7, store.tuple({"1", "a"})});
    FAIL() << "a row of two columns was folded";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
    EXPECT_NE(std::string(e.what()).find("public.t"), std::string::npos) << e.what();
  }
  EXPECT_THROW(folder.fold(lg::Truncate{std::nullopt, 0, {7}}), Error);
  lg::Relation keyless = relation();
  keyless.oid = 8;
  for (auto &c : keyless.columns) c.key = false;
  EXPECT_THROW(folder.relation(keyless), Error);
  // The caller's key columns win over the Relation's flags (REPLICA IDENTITY FULL flags every column).
  Folder by_pk(std::unordered_map<u32, std::vector<int>>{{8u, std::vector<int>{0}}});
  by_pk.relation(keyless);
  by_pk.fold(lg::Insert{std::nullopt, 8, store.tuple({"1", "a", "b"})});
  by_pk.fold(lg::Update{std::nullopt, 8, 'O', store.tuple({"1", "a", "b"}), store.tuple({"1", "c", "b"})});
  auto t = by_pk.take();
  ASSERT_EQ(t[0].keys.size(), 1u);
  EXPECT_EQ(t[0].keys.begin()->second.row[1].bytes, "c");
}

}  // namespace
}  // namespace pgcutover::follow
