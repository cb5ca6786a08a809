#include "pgcutover/schema/large_objects.hpp"

#include <chrono>
#include <map>
#include <set>

#include "pgcutover/pg/transaction.hpp"
#include "pgcutover/sql/array.hpp"
#include "pgcutover/sql/nontable.hpp"
#include "pgcutover/sql/schema_support.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::schema {

namespace nt = sql::nontable;

namespace {

constexpr i64 CHUNK = 1 << 20;               // read and written 1 MB at a time
constexpr i64 BYTES_PER_TRANSACTION = 64 << 20;

struct Grant {
  std::string grantee;  // "" = PUBLIC
  std::string privilege;
  bool grantable = false;
};

struct LargeObject {
  u32 oid = 0;
  std::string owner;
  std::vector<Grant> grants;
};

std::vector<LargeObject> read_objects(pg::Connection &c) {
  std::vector<LargeObject> out;
  pg::Result r = c.exec(nt::large_objects());
  for (int i = 0; i < r.rows(); ++i) {
    u32 oid = static_cast<u32>(r.get_i64(i, 0));
    if (out.empty() || out.back().oid != oid) out.push_back({oid, std::string(r.get(i, 1)), {}});
    if (!r.is_null(i, 3)) out.back().grants.push_back({std::string(r.get(i, 2)), std::string(r.get(i, 3)), r.get_bool(i, 4)});
  }
  return out;
}

std::string oid_array(const std::vector<u32> &oids) {
  std::vector<std::string> s;
  for (u32 o : oids) s.push_back(std::to_string(o));
  return sql::array_literal(s);
}

std::map<u32, std::pair<i64, std::string>> digests(pg::Connection &c, const std::vector<u32> &oids) {
  std::map<u32, std::pair<i64, std::string>> out;
  if (oids.empty()) return out;
  pg::Result r = c.query(nt::large_object_digests(), {oid_array(oids)});
  for (int i = 0; i < r.rows(); ++i)
    out[static_cast<u32>(r.get_i64(i, 0))] = {r.get_i64(i, 1), std::string(r.get(i, 2))};
  return out;
}

std::set<std::string> target_roles(pg::Connection &target) {
  std::set<std::string> out;
  pg::Result r = target.exec(sql::schema_support::role_names());
  for (int i = 0; i < r.rows(); ++i) out.emplace(r.get(i, 0));
  return out;
}

// Creates the object on the target with the source's content, owner and
// GRANTs (inside the caller's transaction); returns the bytes written.
i64 write_object(pg::Connection &source, pg::Connection &target, const LargeObject &lo, const SchemaOptions &opt) {
  const std::string oid = std::to_string(lo.oid);
  target.query(nt::large_object_create(), {oid});
  i64 offset = 0;
  for (;;) {
    pg::Result chunk = source.query(nt::large_object_chunk(), {oid, std::to_string(offset), std::to_string(CHUNK)});
    std::string_view hex = chunk.get(0, 0);
    i64 n = static_cast<i64>(hex.size()) / 2;
    if (n == 0) break;
    target.query(nt::large_object_put(), {oid, std::to_string(offset), std::string(hex)});
    offset += n;
    if (n < CHUNK) break;
  }
  if (!opt.no_owner) target.exec(nt::large_object_owner(lo.oid, lo.owner));
  if (!opt.no_privileges)
    for (const Grant &g : lo.grants) target.exec(nt::large_object_grant(lo.oid, g.privilege, g.grantee, g.grantable));
  return offset;
}

}  // namespace

i64 count_large_objects(pg::Connection &source) { return source.exec(nt::large_object_totals()).get_i64(0, 0); }

MissingRoles large_object_roles(pg::Connection &source, pg::Connection &target) {
  MissingRoles m;
  std::set<std::string> roles = target_roles(target);
  for (const LargeObject &lo : read_objects(source)) {
    std::string what = "large object " + std::to_string(lo.oid);
    auto add = [&](std::vector<std::string> &v) {
      if (v.empty() || v.back() != what) v.push_back(what);
    };
    if (!roles.count(lo.owner)) add(m.owners[lo.owner]);
    for (const Grant &g : lo.grants)
      if (!g.grantee.empty() && !roles.count(g.grantee)) add(m.grantees[g.grantee]);
  }
  return m;
}

LargeObjectResult sync_large_objects(pg::Connection &source, pg::Connection &target, const SchemaOptions &opt,
                                     bool unlink_extra) {
  auto t0 = std::chrono::steady_clock::now();
  LargeObjectResult out;
  std::vector<LargeObject> src = read_objects(source);
  out.source_count = static_cast<i64>(src.size());
  std::set<u32> on_target, on_source;
  for (const LargeObject &lo : read_objects(target)) on_target.insert(lo.oid);
  std::vector<u32> both;
  for (const LargeObject &lo : src) {
    on_source.insert(lo.oid);
    if (on_target.count(lo.oid)) both.push_back(lo.oid);
  }
  // Those on both sides: written again when the content differs.
  std::set<u32> differ;
  if (!both.empty()) {
    auto a = digests(source, both), b = digests(target, both);
    for (u32 o : both)
      if (a[o] != b[o]) differ.insert(o);
  }
  std::optional<pg::Transaction> tx;
  i64 in_tx = 0;
  auto flush = [&] {
    if (tx) tx->commit();
    tx.reset();
    in_tx = 0;
  };
  for (const LargeObject &lo : src) {
    bool missing = !on_target.count(lo.oid);
    if (!missing && !differ.count(lo.oid)) continue;
    if (!tx) tx.emplace(target);
    try {
      if (!missing) target.query(nt::large_object_unlink(), {std::to_string(lo.oid)});
      i64 n = write_object(source, target, lo, opt);
      out.bytes += n;
      in_tx += n;
    } catch (const Error &e) {
      throw Error(e.kind, "copying large object " + std::to_string(lo.oid) + " failed: " + e.what(),
                  "the large objects written before it are kept; fix the cause and rerun the same command");
    }
    ++(missing ? out.created : out.rewritten);
    if (in_tx >= BYTES_PER_TRANSACTION) flush();
  }
  if (unlink_extra)
    for (u32 o : on_target)
      if (!on_source.count(o)) {
        if (!tx) tx.emplace(target);
        target.query(nt::large_object_unlink(), {std::to_string(o)});
        ++out.unlinked;
      }
  flush();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (out.source_count > 0 || out.unlinked > 0)
    log::info("large objects: {} on the source; {} created, {} written again, {} removed on the target ({} bytes) in {:.2f} s",
              out.source_count, out.created, out.rewritten, out.unlinked, out.bytes, out.seconds);
  return out;
}

}  // namespace pgcutover::schema
