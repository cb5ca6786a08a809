#include "pgcutover/traffic/generic.hpp"

#include <algorithm>
#include <regex>

#include "pgcutover/sql/sync.hpp"
#include "pgcutover/sql/traffic.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::traffic {

namespace {

constexpr int UPDATE = 0, INSERT = 1, DELETE = 2;
constexpr int POOL = 1000;  // keys sampled per table

// Usual names of a column the application sets on every change.
const char *CHANGE_NAMES[] = {"updated_at", "modified_at", "updated_on", "last_modified", "last_updated",
                              "changed_at", "modified", "updated", "mtime"};

bool is_time_type(const std::string &type) {
  return type.starts_with("timestamp") || type == "date";
}

std::string change_column_of(const catalog::TableDef &t, const std::string &wanted) {
  auto usable = [&](const std::string &name) {
    const catalog::ColumnDef *c = t.find_column(name);
    return c && is_time_type(c->type) && std::find(t.key.begin(), t.key.end(), name) == t.key.end();
  };
  if (!wanted.empty()) return usable(wanted) ? wanted : "";
  for (const char *n : CHANGE_NAMES)
    if (usable(n)) return n;
  return "";
}

// A sequence or identity feeds the table's one-column key: inserts may leave it out.
bool key_fed_by_sequence(const catalog::TableDef &t, const std::vector<catalog::SequenceDef> &seqs) {
  if (t.key.size() != 1) return false;
  for (const catalog::SequenceDef &s : seqs)
    for (const catalog::FedColumn &f : s.feeds)
      if (f.table == t.name && f.column == t.key[0]) return true;
  return false;
}

std::string joined(const std::vector<std::string> &key) {
  std::string out;
  for (const std::string &k : key) out += k + '\x1f';
  return out;
}

// Columns whose default is the current time (a creation stamp): a new row
// takes the default instead of the copied row's old value, so a sync reading
// such a column sees the insert.
std::vector<std::string> time_defaulted(const catalog::TableDef &t) {
  static const std::regex NOW(R"(\b(now|clock_timestamp|statement_timestamp|transaction_timestamp)\(|\b(current_timestamp|localtimestamp|current_date)\b)",
                              std::regex::icase);
  std::vector<std::string> out;
  for (const catalog::ColumnDef &c : t.columns)
    if (!c.default_expr.empty() && std::regex_search(c.default_expr, NOW)) out.push_back(c.name);
  return out;
}

}  // namespace

struct TableState {
  TableCounts counts;
  double weight = 1;
  std::string select_keys, update, insert, remove;  // statements; insert "" when not possible
  std::vector<std::vector<std::string>> pool;       // key values as text
  std::set<std::string> changed;                    // joined keys updated or inserted, not deleted since
  bool sampled_empty = false;
};

GenericWriter::GenericWriter(pg::Connection &conn, const std::vector<sql::QualifiedName> &names,
                             const std::vector<std::string> &exclude_schemas, const std::string &change_column, Mix mix,
                             unsigned seed)
    : conn_(conn), mix_(mix), rng_(seed) {
  // Writes as the application's sessions write: in the database's own time
  // zone (a timestamp-without-time-zone change column is set to now() in it,
  // as the sync reads it), not the UTC every pgcutover session pins.
  std::string zone(conn.exec(sql::sync::session_default_time_zone()).get(0, 0));
  conn.exec(sql::traffic::set_time_zone(zone));
  catalog::Catalog cat = catalog::load_catalog(conn, exclude_schemas);
  std::vector<catalog::SequenceDef> seqs = catalog::load_sequences(conn, exclude_schemas);
  for (const catalog::TableDef &t : catalog::select_tables(cat, names)) {
    if (!t.has_key()) {
      left_out_.push_back(t.name.display() + ": no primary key");
      continue;
    }
    auto st = std::make_unique<TableState>();
    st->counts.table = t.name.display();
    st->counts.change_column = change_column_of(t, change_column);
    const sql::traffic::KeyColumns key{t.key, t.key_types};
    double rows = t.reltuples >= 0 ? t.reltuples : static_cast<double>(t.heap_bytes) / 100;
    st->weight = std::max(1.0, rows);
    const std::string &chg = st->counts.change_column;
    st->select_keys = sql::traffic::sample_keys(t.name, key, rows, POOL);
    st->update = sql::traffic::update_row(t.name, key, chg);
    st->remove = sql::traffic::delete_row(t.name, key);
    if (key_fed_by_sequence(t, seqs)) {
      st->insert = sql::traffic::insert_copy(t.name, key, t.column_names(), chg, time_defaulted(t));
      st->counts.inserts_possible = !st->insert.empty();
    }
    tables_.push_back(std::move(st));
  }
  if (tables_.empty())
    throw Error(ErrorKind::Usage, "no table with a primary key to write to on " + conn.display_name(),
                "name tables with --table, or give the tables primary keys");
  double total = 0;
  for (auto &t : tables_) total += t->weight;
  double sum = 0;
  for (auto &t : tables_) {
    t->counts.weight = t->weight / total;
    sum += t->weight;
    cumulative_.push_back(sum);
  }
}

GenericWriter::~GenericWriter() = default;

TableState &GenericWriter::pick_table() {
  double x = std::uniform_real_distribution<double>(0, cumulative_.back())(rng_);
  size_t i = std::lower_bound(cumulative_.begin(), cumulative_.end(), x) - cumulative_.begin();
  return *tables_[std::min(i, tables_.size() - 1)];
}

int GenericWriter::pick_op(const TableState &t) {
  int ins = t.insert.empty() ? 0 : mix_.inserts;
  int x = std::uniform_int_distribution<int>(0, std::max(0, mix_.updates + ins + mix_.deletes - 1))(rng_);
  if (x < mix_.updates) return UPDATE;
  if (x < mix_.updates + ins) return INSERT;
  return DELETE;
}

bool GenericWriter::step() {
  TableState &t = pick_table();
  return run(t, pick_op(t));
}

bool GenericWriter::run(TableState &t, int op) {
  auto skip = [&](const std::string &why) {
    ++t.counts.skipped;
    if (t.counts.skip_reason.empty()) t.counts.skip_reason = why;
    return false;
  };
  try {
    if (t.pool.empty() && !t.sampled_empty) {
      pg::Result r = conn_.query(t.select_keys, {});
      for (int i = 0; i < r.rows(); ++i) {
        std::vector<std::string> key;
        for (int c = 0; c < r.columns(); ++c) key.emplace_back(r.get(i, c));
        t.pool.push_back(std::move(key));
      }
      t.sampled_empty = t.pool.empty();  // sampled again only after an insert of ours
    }
    if (t.pool.empty()) return skip("no row to update, copy or delete");
    size_t i = std::uniform_int_distribution<size_t>(0, t.pool.size() - 1)(rng_);
    std::vector<pg::Param> params(t.pool[i].begin(), t.pool[i].end());
    const std::string key = joined(t.pool[i]);
    if (op == UPDATE || op == DELETE) {
      pg::Result r = conn_.query(op == UPDATE ? t.update : t.remove, params);
      if (r.affected_rows() == 0) {  // deleted by someone else since the sample
        t.pool[i] = std::move(t.pool.back());
        t.pool.pop_back();
        return skip("a sampled row was gone");
      }
      if (op == UPDATE) {
        ++t.counts.updates;
        t.changed.insert(key);
      } else {
        ++t.counts.deletes;
        t.changed.erase(key);
        t.pool[i] = std::move(t.pool.back());
        t.pool.pop_back();
      }
      return true;
    }
    pg::Result r = conn_.query(t.insert, params);
    if (r.rows() != 1) return skip("a sampled row was gone");
    std::vector<std::string> fresh{std::string(r.get(0, 0))};
    ++t.counts.inserts;
    t.changed.insert(joined(fresh));
    if (t.pool.size() < 2 * POOL) t.pool.push_back(std::move(fresh));
    return true;
  } catch (const Error &e) {
    // Integrity constraints (class 23) refuse this row, not the table: a
    // copied row repeating a unique value, a delete a foreign key forbids.
    // Serialization failures and deadlocks are another writer's turn.
    if (e.sqlstate.starts_with("23") || e.sqlstate == "40001" || e.sqlstate == "40P01") {
      if (op == INSERT && e.sqlstate.starts_with("23")) {  // every copy would repeat it
        t.insert.clear();
        t.counts.inserts_possible = false;
      }
      return skip(std::string(op == UPDATE ? "update" : op == INSERT ? "insert" : "delete") + " refused: " + e.what());
    }
    Error loud(e.kind, "cannot write to " + t.counts.table + ": " + e.what(),
               "traffic needs a role that may update, insert into and delete from " + t.counts.table +
                   " (or leave it out with --table)");
    loud.sqlstate = e.sqlstate;
    loud.table = t.counts.table;
    throw loud;
  }
}

std::vector<TableCounts> GenericWriter::counts() const {
  std::vector<TableCounts> out;
  for (const auto &t : tables_) {
    out.push_back(t->counts);
    out.back().rows_changed = static_cast<i64>(t->changed.size());
  }
  return out;
}

}  // namespace pgcutover::traffic
