// Follow classes and the follow preflight (see classes.hpp).
#include "pgcutover/follow/classes.hpp"

#include "pgcutover/sql/ident.hpp"
#include "pgcutover/sql/replication.hpp"

namespace pgcutover::follow {

const char *to_string(FollowClass c) {
  switch (c) {
    case FollowClass::Follow: return "follow";
    case FollowClass::FollowAltered: return "follow-after-alter";
    case FollowClass::Watermark: return "watermark";
    case FollowClass::CopyInOutage: return "copy-in-outage";
  }
  return "?";
}

namespace {

// Without the stream: the watermark sync when the table has a change
// column it reads by, else the final sync reads it whole.
TableFollow without_stream(const sync::ChangeMethod &m, std::string why, std::string alter) {
  TableFollow out;
  out.alter = std::move(alter);
  if (!m.scans) {
    out.cls = FollowClass::Watermark;
    out.reason = why + "; synced by its change column (" + sync::to_string(m.kind) +
                 (m.column.empty() ? "" : " " + m.column) + ")";
  } else {
    out.cls = FollowClass::CopyInOutage;
    out.reason = why + "; and its sync reads it whole (" + m.reason + "): the final sync copies it in the outage";
  }
  if (!out.alter.empty()) out.reason += "; followed after `" + out.alter + "` with --allow-replica-identity";
  return out;
}

}  // namespace

TableFollow classify(const catalog::TableDef &t, const sync::ChangeMethod &m, bool allow_alter) {
  const std::string name = t.name.quoted();
  if (t.relkind == 'p')
    return {FollowClass::Follow, "partitioned: not published itself (that would publish every partition); its "
            "partitions are, each by its own class", "", false};
  if (t.unlogged) return without_stream(m, "unlogged: its changes are not written to the WAL, so not decoded", "");
  if (t.replica_identity == 'f')
    return {FollowClass::Follow,
            t.has_key() ? "REPLICA IDENTITY FULL: old rows arrive whole, matched by the key"
                        : "REPLICA IDENTITY FULL without a key: old rows arrive whole and are matched by every column, "
                          "in commit order",
            "", !t.has_key()};
  if (t.has_key()) {
    if (t.key_deferrable) {
      // PostgreSQL never takes a deferrable index as the replica identity,
      // nor accepts it in REPLICA IDENTITY USING INDEX: only FULL is left.
      const std::string alter = "ALTER TABLE " + name + " REPLICA IDENTITY FULL";
      const std::string why = "the primary key " + t.key_index + " is DEFERRABLE, which is never a replica identity: "
                              "publishing its updates and deletes would make them fail on the source";
      if (allow_alter)
        return {FollowClass::FollowAltered, why + "; followed after `" + alter + "` (old rows arrive whole, matched "
                                                  "by the key)", alter, false};
      return without_stream(m, why, alter);
    }
    if (t.replica_identity == 'd' && t.key_is_primary)
      return {FollowClass::Follow, "the primary key " + t.key_index + " is the replica identity", "", false};
    if (t.replica_identity == 'i' && t.identity_index == t.key_index)
      return {FollowClass::Follow, "the replica identity is the key's unique index " + t.key_index, "", false};
    const std::string alter =
        "ALTER TABLE " + name + " REPLICA IDENTITY USING INDEX " + sql::quote_ident(t.key_index);
    const std::string why =
        t.replica_identity == 'i'
            ? "the replica identity is index " + t.identity_index + ", not the key's " + t.key_index
        : t.replica_identity == 'n' ? "REPLICA IDENTITY NOTHING: updates and deletes would arrive without a key"
                                    : "no primary key, so no replica identity: publishing its updates and deletes "
                                      "would make them fail on the source";
    if (allow_alter) return {FollowClass::FollowAltered, why + "; followed after `" + alter + "`", alter, false};
    return without_stream(m, why, alter);
  }
  const std::string alter = "ALTER TABLE " + name + " REPLICA IDENTITY FULL";
  const std::string why = "no key and no replica identity";
  if (allow_alter)
    return {FollowClass::FollowAltered,
            why + "; followed after `" + alter + "`: old rows arrive whole and are matched by every column, in "
                  "commit order",
            alter, true};
  return without_stream(m, why, alter);
}

Preflight preflight(pg::Connection &src, const std::vector<const catalog::TableDef *> &followed, bool alters) {
  Preflight p;
  p.server_version = src.server_version();
  if (p.server_version < 100000) {
    p.missing.push_back("PostgreSQL " + std::to_string(p.server_version / 10000) + "." +
                        std::to_string(p.server_version / 100 % 100) +
                        " has no pgoutput: follow mode needs a source of 10 or later; use the watermark sync");
    return p;
  }
  if (p.server_version < 110000)
    p.warnings.push_back("PostgreSQL 10 does not decode TRUNCATE: a followed table truncated on the source would not "
                         "be emptied on the target by the stream; verify before the cutover, or upgrade the source to 11+");
  pg::Result r = src.exec(sql::replication::follow_preflight());
  p.wal_level = std::string(r.get(0, 0));
  p.free_slots = r.get_i64(0, 1);
  p.free_wal_senders = r.get_i64(0, 2);
  p.may_replicate = r.get_bool(0, 3);
  p.may_create_publication = r.get_bool(0, 4) || r.get_bool(0, 5);
  p.role = std::string(r.get(0, 6));
  if (p.wal_level != "logical")
    p.missing.push_back("wal_level is " + p.wal_level +
                        ": set wal_level = logical on the source (ALTER SYSTEM SET wal_level = logical) and restart it");
  if (p.free_slots < 1)
    p.missing.push_back("no replication slot free (max_replication_slots is used up): raise max_replication_slots "
                        "(restart) or drop an unused slot (pg_replication_slots)");
  if (p.free_wal_senders < 1)
    p.missing.push_back("no WAL sender free (max_wal_senders is used up): raise max_wal_senders (restart)");
  if (!p.may_replicate)
    p.missing.push_back("role " + p.role + " may not replicate: ALTER ROLE " + sql::quote_ident(p.role) +
                        " REPLICATION (or connect as a role that has it)");
  if (!p.may_create_publication)
    p.missing.push_back("role " + p.role + " may not create a publication in this database: GRANT CREATE ON DATABASE " +
                        "to it");
  std::string unowned;
  int n = 0;
  for (const catalog::TableDef *t : followed)
    if (!t->owned && t->relkind != 'p' && ++n <= 5) unowned += (unowned.empty() ? "" : ", ") + t->name.display();
  if (n > 0)
    p.missing.push_back("role " + p.role + " does not own " + std::to_string(n) + " table(s) to follow (" + unowned +
                        (n > 5 ? ", ..." : "") + "): a publication" + (alters ? " and REPLICA IDENTITY" : "") +
                        " needs the owner; connect as the owner or a member of it");
  return p;
}

}  // namespace pgcutover::follow
