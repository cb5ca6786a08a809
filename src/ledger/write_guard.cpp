#include "pgcutover/ledger/write_guard.hpp"

#include <chrono>

#include "pgcutover/ledger/ledger.hpp"
#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/ledger.hpp"
#include "pgcutover/sql/write_guard.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::ledger {

namespace {

constexpr const char *TRIGGER = "trigger";
constexpr const char *FOREIGN_KEY = "foreign_key";
constexpr const char *CHECK = "not_valid_check";
constexpr const char *DOMAIN_CHECK = "not_valid_domain_check";  // table = the domain

std::string set_aside_statement(const std::string &kind, const sql::QualifiedName &t, const std::string &name) {
  if (kind == TRIGGER) return sql::write_guard::disable_trigger(t, name);
  if (kind == DOMAIN_CHECK) return sql::write_guard::drop_domain_constraint(t, name);
  return sql::write_guard::drop_constraint(t, name);
}

// validated: the constraint was valid when set aside (only foreign keys are
// set aside valid; the checks are set aside because they are not).
std::string restore_statement(const std::string &kind, const sql::QualifiedName &t, const std::string &name,
                              const std::string &definition, bool validated) {
  if (kind == TRIGGER) return sql::write_guard::enable_trigger(t, name, definition);
  if (kind == DOMAIN_CHECK) return sql::write_guard::add_domain_constraint(t, name, definition, validated);
  return sql::write_guard::add_constraint_not_valid(t, name, definition, validated);
}

const char *kind_word(const std::string &kind) {
  return kind == TRIGGER ? "trigger" : kind == FOREIGN_KEY ? "foreign key" : kind == CHECK ? "NOT VALID check" : "NOT VALID domain check";
}

struct SetAside {
  std::string kind;
  sql::QualifiedName table;
  std::string name;
  std::string definition;
  bool validate = false;  // a foreign key that was valid: VALIDATE once back
  std::string state = "set_aside";  // or "recreated": back NOT VALID, VALIDATE due
};

std::vector<std::optional<std::string>> table_params(const std::vector<sql::QualifiedName> &tables) {
  std::vector<std::string> schemas, names;
  for (const sql::QualifiedName &t : tables) {
    schemas.push_back(t.schema);
    names.push_back(t.name);
  }
  return {sql::array_literal(schemas), sql::array_literal(names)};
}

std::vector<SetAside> rows(pg::Connection &dst, const char *query, const std::vector<std::optional<std::string>> &params, const char *kind) {
  pg::Result r = dst.query(query, params);
  std::vector<SetAside> out;
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({kind, {std::string(r.get(i, 0)), std::string(r.get(i, 1))}, std::string(r.get(i, 2)),
                   std::string(r.get(i, 3)), r.columns() > 4 && r.get_bool(i, 4)});
  return out;
}

// Runs one statement; a failure names what it was for.
void run(pg::Connection &dst, const std::string &statement, const SetAside &a, const std::string &doing) {
  try {
    dst.exec(statement);
  } catch (const Error &e) {
    Error named(e.kind, doing + " " + kind_word(a.kind) + " \"" + a.name + "\" on " +
                            a.table.display() + " failed: " + e.what(),
                "it stays recorded in the tool's schema (set_aside) and the next run of pgcutover on this target "
                "restores it; or restore it by hand: " +
                    restore_statement(a.kind, a.table, a.name, a.definition, a.validate));
    named.sqlstate = e.sqlstate;
    throw named;
  }
}

// Records each one and sets it aside, in one transaction per object.
void set_aside(pg::Connection &dst, const std::string &schema, const std::vector<SetAside> &todo, pg::TargetWrites &w,
               bool &armed) {
  const sql::Ident ledger{schema};
  for (const SetAside &a : todo) {
    // The record and the change commit together: a crash leaves both or neither.
    pg::Transaction txn(dst);
    dst.query(sql::ledger::insert_set_aside(ledger),
              {a.kind, a.table.schema, a.table.name, a.name, a.definition, a.validate ? "true" : "false"});
    run(dst,
        set_aside_statement(a.kind, a.table, a.name),
        a, a.kind == TRIGGER ? "disabling" : "dropping");
    txn.commit();
    armed = true;
    w.set_aside.push_back(a.table.display() + ": " + kind_word(a.kind) + " " + a.name);
  }
}

}  // namespace

TargetWriteGuard::TargetWriteGuard(pg::Endpoints ends, std::string tool_schema)
    : ends_(std::move(ends)), schema_(std::move(tool_schema)) {}

TargetWriteGuard::~TargetWriteGuard() {
  if (!armed_) return;
  cancel::CleanupScope stopping;  // restoring is part of stopping, also after a first signal
  try {
    pg::Endpoints plain = ends_;
    plain.target_settings.replica_writes = false;
    pg::Connection dst = pg::Connection::open(plain.target_conninfo, plain.target_settings);
    restore(dst);
  } catch (const std::exception &e) {
    log::error("restoring the target's triggers and foreign keys failed: {}; the next run restores them", e.what());
  }
}

pg::TargetWrites TargetWriteGuard::prepare(pg::Connection &dst, const std::vector<sql::QualifiedName> &tables) {
  Ledger(schema_, "").ensure_tables(dst);
  // What a killed run left; not what another process of this job set aside
  // and still relies on.
  if (lock_ && lock_->others() > 0)
    log::info("another process of this job is writing to the target: what it set aside stays so until the last one ends");
  else
    restore_recorded(dst);
  pg::TargetWrites w = pg::probe_target_writes(dst, tables);
  // NOT VALID checks act on every row written, replica or not, and the source
  // keeps rows from before its check: set aside like the rest (re-created NOT
  // VALID, as they were).
  set_aside_new_checks(dst, tables, w);
  if (w.replica) {
    pg::use_replica_writes(dst, w);
    return w;
  }
  if (w.acting.empty()) return w;
  std::vector<std::optional<std::string>> params = table_params(tables);
  pg::Result foreign = dst.query(sql::write_guard::not_owned(), params);
  if (foreign.rows() > 0) {
    std::string list;
    for (int i = 0; i < foreign.rows(); ++i) list += std::string(i ? ", " : "") + std::string(foreign.get(i, 0));
    pg::refuse_target_writes(dst, w, "nor does it own " + list + ", so it cannot set their triggers and foreign keys aside");
  }
  std::vector<SetAside> todo = rows(dst, sql::write_guard::firing_triggers(), params, TRIGGER);
  for (SetAside &fk : rows(dst, sql::write_guard::acting_foreign_keys(), params, FOREIGN_KEY)) todo.push_back(std::move(fk));
  set_aside(dst, schema_, todo, w, armed_);
  log::info("{}", w.summary());
  return w;
}


void TargetWriteGuard::set_aside_new_checks(pg::Connection &dst, const std::vector<sql::QualifiedName> &tables,
                                            pg::TargetWrites &w) {
  std::vector<SetAside> checks = rows(dst, sql::write_guard::not_valid_checks(), table_params(tables), CHECK);
  for (SetAside &d : rows(dst, sql::write_guard::not_valid_domain_checks(), table_params(tables), DOMAIN_CHECK))
    checks.push_back(std::move(d));
  set_aside(dst, schema_, checks, w, armed_);  // (a check set aside is no longer in the catalog: found once)
}

void TargetWriteGuard::restore(pg::Connection &dst) {
  if (lock_ && !lock_->last_out()) {
    log::info("another process of this job is still writing: it restores the triggers and foreign keys set aside when it ends");
    armed_ = false;
    return;
  }
  restore_recorded(dst);
  if (lock_) lock_->share_again();
}

void TargetWriteGuard::restore_recorded(pg::Connection &dst) {
  const sql::Ident ledger{schema_};
  pg::Result r = dst.exec(sql::ledger::select_set_aside(ledger));
  std::vector<SetAside> recorded;
  for (int i = 0; i < r.rows(); ++i)
    recorded.push_back({std::string(r.get(i, 0)), {std::string(r.get(i, 1)), std::string(r.get(i, 2))}, std::string(r.get(i, 3)),
                        std::string(r.get(i, 4)), r.get_bool(i, 5), std::string(r.get(i, 6))});
  if (!recorded.empty()) log::info("restoring {} trigger(s), foreign key(s) and NOT VALID check(s) set aside on the target", recorded.size());
  auto forget = [&](const SetAside &a) {
    dst.query(sql::ledger::delete_set_aside(ledger), {a.kind, a.table.schema, a.table.name, a.name});
  };
  for (const SetAside &a : recorded) {
    bool validate = a.kind == FOREIGN_KEY && a.validate;
    if (a.state != "recreated") {
      // PostgreSQL before 18 cannot add a NOT VALID foreign key to a
      // partitioned table: it comes back validated at once (a scan of the
      // table under its lock), timed.
      const bool at_once = a.kind == FOREIGN_KEY && dst.server_version() < 180000 &&
                           dst.query(sql::write_guard::is_partitioned(), {a.table.schema, a.table.name}).get_bool(0, 0);
      auto started = std::chrono::steady_clock::now();
      pg::Transaction txn(dst);
      run(dst,
          at_once ? sql::write_guard::add_constraint(a.table, a.name, a.definition)
                  : restore_statement(a.kind, a.table, a.name, a.definition, a.validate),
          a, a.kind == TRIGGER ? "re-enabling" : "re-creating");
      if (at_once) validate = false;  // the ADD itself validated it
      // A foreign key to validate keeps its record until VALIDATE succeeded.
      if (validate)
        dst.query(sql::ledger::mark_recreated(ledger), {a.kind, a.table.schema, a.table.name, a.name});
      else
        forget(a);
      txn.commit();
      if (at_once)
        log::info("foreign key \"{}\" on the partitioned table {} re-created validated at once in {:.1f} s (PostgreSQL "
                  "{} cannot add it NOT VALID)",
                  a.name, a.table.display(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                  dst.server_version() / 10000);
    }
    if (!validate) continue;
    run(dst, sql::write_guard::validate_constraint(a.table, a.name), a, "validating");
    forget(a);
  }
  armed_ = false;
}

}  // namespace pgcutover::ledger
