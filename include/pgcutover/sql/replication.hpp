#pragma once
// Statements of logical replication (follow mode): the replication commands
// of a replication=database session, and what the slot's creation waits for.
#include <string>
#include <utility>
#include <vector>

namespace pgcutover::sql::replication {

// -> systemid, timeline, xlogpos, dbname.
const char *identify_system();
// A logical slot with the pgoutput plugin and an exported snapshot -> slot_name,
// consistent_point, snapshot_name, output_plugin. The pre-15 syntax, which 15+ still accept.
std::string create_logical_slot(const std::string &slot);
std::string drop_slot(const std::string &slot);
// START_REPLICATION of a logical slot from `lsn` ("X/Y"), with pgoutput's options.
std::string start_logical(const std::string &slot, const std::string &lsn,
                          const std::vector<std::pair<std::string, std::string>> &options);
// pgoutput's publication_names value: the names quoted as identifiers, comma-separated.
std::string publication_names(const std::vector<std::string> &names);
// $1 the replication session's pid -> one row per transaction a logical
// slot's creation waits for (every transaction holding an xid, in any
// database, and every prepared one, except the slot creator's own): pid (0
// for a prepared one), who, age in seconds, query (first 200 characters).
const char *slot_creation_blockers();
// What follow mode needs of the source -> wal_level, replication slots free
// (max_replication_slots - existing), WAL senders free (max_wal_senders -
// running), whether the role may replicate (REPLICATION or superuser),
// whether it may create a publication in this database (CREATE on it),
// whether it is a superuser, the role's name.
const char *follow_preflight();
// $1 slot name -> active, restart_lsn, confirmed_flush_lsn, WAL the slot
// holds back (bytes from restart_lsn to the current WAL position), wal_status
// and safe_wal_size (NULL before 13), active_pid, the current WAL position.
// No row: the slot is gone.
std::string slot_health(int server_version);

}  // namespace pgcutover::sql::replication
