#pragma once
// The follow mode's receiver (issue 25, point 3): reads the slot's stream
// into the durable spool, tells the server how far the spool is durable
// (so it may recycle the WAL behind), and watches the slot's health.
//
// The flush position reported is the spool's durable position; when the
// stream is quiet and the spool holds nothing unfinished, the server's
// keepalive position (as PostgreSQL's own subscriber does): everything
// before it that the publication carries has been received and stored.
// Feedback goes every feedback_every and whenever the server asks.
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pgcutover/follow/spool.hpp"
#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/replication.hpp"

namespace pgcutover::follow {

// The pgoutput options follow mode asks a source of this version for:
// protocol 1 before 14; 2 from 14 (large transactions are not streamed yet:
// the server holds them until they commit), with logical messages (the
// fence); binary values when asked, from 14.
struct StreamSetup {
  int protocol = 1;
  std::vector<std::pair<std::string, std::string>> options;
};
StreamSetup stream_setup(int server_version, const std::vector<std::string> &publications, bool binary);

struct SlotHealth {
  bool exists = false;
  bool active = false;
  int active_pid = 0;               // the session streaming it (0: none)
  logical::Lsn wal_now;             // the source's current WAL position when read
  logical::Lsn restart_lsn, confirmed_flush;
  i64 retained_bytes = 0;           // WAL the slot holds back on the source
  std::string wal_status;           // reserved, extended, unreserved, lost ("" before 13)
  std::optional<i64> safe_wal_size; // bytes until the slot would lose WAL (13+, with max_slot_wal_keep_size)
};
SlotHealth read_slot_health(pg::Connection &observer, const std::string &slot);

struct ReceiveOptions {
  std::string slot;
  std::chrono::milliseconds feedback_every{2000};
  std::chrono::milliseconds health_every{10000};
  // How long start() waits for a slot another session still streams (a
  // follower whose connection broke holds it until the server notices).
  std::chrono::milliseconds active_wait{30000};
};

struct ReceiveStats {
  i64 messages = 0;
  i64 message_bytes = 0;
  i64 commits = 0;
  i64 feedbacks = 0;
  logical::Lsn received;    // the stream's position
  logical::Lsn flushed;     // the last flush position reported
  logical::Lsn sender_read;  // how far the WAL sender has read, as its keepalives said
  SlotHealth health;        // as last read
  i64 last_commit_time = 0; // the last received commit's time (microseconds since 2000-01-01, the server's clock)
  // WAL the source had written, when its health was last read, past the
  // position the spool holds durably (a keepalive's position is only how
  // far the WAL sender has read, not the end of WAL).
  i64 lag_bytes() const {
    return health.wal_now > flushed ? static_cast<i64>(health.wal_now.value - flushed.value) : 0;
  }
};

class Receiver {
 public:
  // The session must not stream yet; the observer is an ordinary session on
  // the same database (slot health).
  Receiver(pg::ReplicationSession &session, pg::Connection &observer, SpoolWriter &spool, ReceiveOptions options);

  // START_REPLICATION from the spool's durable position, once the slot's
  // health was read (a slot gone or lost is refused by name, Permanent)
  // and no other session streams it (waited for up to active_wait, then
  // Transient, naming that session).
  void start(const StreamSetup &setup);
  // Reads, spools and reports until `until` says stop (checked after every
  // commit and every quiet moment) or `budget` has passed, then finishes the
  // open segment if it stands at a transaction's end and reports once more.
  // Throws Error: Transient when the stream ends (rerun resumes from the
  // spool), Permanent when the slot lost WAL it needed or is gone.
  const ReceiveStats &run(std::chrono::milliseconds budget, const std::function<bool(const ReceiveStats &)> &until = {});
  const ReceiveStats &stats() const { return stats_; }

 private:
  void report(bool reply_requested);
  void watch_health();

  pg::ReplicationSession &session_;
  pg::Connection &observer_;
  SpoolWriter &spool_;
  ReceiveOptions opt_;
  ReceiveStats stats_;
  logical::Lsn idle_end_;  // a keepalive's position while nothing was pending
  std::chrono::steady_clock::time_point last_feedback_{}, last_health_{};
  bool warned_unreserved_ = false;
};

}  // namespace pgcutover::follow
