#include "pgcutover/sync/watermark.hpp"

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/ledger.hpp"

namespace pgcutover::sync {

std::optional<Watermark> read_watermark(pg::Connection &c, const std::string &schema, const sql::QualifiedName &t) {
  pg::Result r = c.query(sql::ledger::read_watermark(sql::Ident{schema}), {t.schema, t.name});
  if (r.rows() == 0) return std::nullopt;
  return Watermark{std::string(r.get(0, 0)), std::string(r.get(0, 1)), r.get(0, 2) == "t"};
}

void write_watermark(pg::Connection &c, const std::string &schema, const sql::QualifiedName &t, const std::string &part,
                     const Watermark &w, const std::string &method) {
  c.query(sql::ledger::upsert_watermark(sql::Ident{schema}), {t.schema, t.name, part, w.point, w.xmin, method});
}

std::vector<sql::QualifiedName> watermarked_tables(pg::Connection &c, const std::string &schema) {
  pg::Result r = c.exec(sql::ledger::watermarked_tables(sql::Ident{schema}));
  std::vector<sql::QualifiedName> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1))});
  return out;
}

void commit_watermark(pg::Connection &c, const std::string &schema, const sql::QualifiedName &t, const Watermark &w,
                      const std::string &method) {
  pg::Transaction txn(c);
  c.query(sql::ledger::clear_watermark_parts(sql::Ident{schema}), {t.schema, t.name});
  write_watermark(c, schema, t, "", w, method);
  txn.commit();
}

void commit_watermarks(pg::Connection &c, const std::string &schema,
                       const std::vector<std::pair<sql::QualifiedName, Watermark>> &points, const std::string &method) {
  if (points.empty()) return;
  std::vector<std::string> schemas, tables, at, xmins;
  for (const auto &[t, w] : points) {
    schemas.push_back(t.schema);
    tables.push_back(t.name);
    at.push_back(w.point);
    xmins.push_back(w.xmin);
  }
  pg::Transaction txn(c);
  c.query(sql::ledger::clear_watermark_parts_of(sql::Ident{schema}), {sql::array_literal(schemas), sql::array_literal(tables)});
  c.query(sql::ledger::upsert_watermarks(sql::Ident{schema}), {sql::array_literal(schemas), sql::array_literal(tables),
                                                               sql::array_literal(at), sql::array_literal(xmins), method});
  txn.commit();
}

std::map<sql::QualifiedName, Watermark> read_watermarks(pg::Connection &c, const std::string &schema) {
  pg::Result r = c.exec(sql::ledger::read_watermarks(sql::Ident{schema}));
  std::map<sql::QualifiedName, Watermark> out;
  for (int i = 0; i < r.rows(); ++i)
    out[{std::string(r.get(i, 0)), std::string(r.get(i, 1))}] = {std::string(r.get(i, 2)), std::string(r.get(i, 3)),
                                                                  r.get(i, 4) == "t"};
  return out;
}

}  // namespace pgcutover::sync
