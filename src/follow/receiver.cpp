// The follow mode's receiver (see receiver.hpp).
#include "pgcutover/follow/receiver.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "pgcutover/sql/replication.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::follow {

using namespace std::chrono;

StreamSetup stream_setup(int server_version, const std::vector<std::string> &publications, bool binary) {
  StreamSetup s;
  s.protocol = server_version >= 140000 ? 2 : 1;
  s.options = {{"proto_version", std::to_string(s.protocol)},
               {"publication_names", sql::replication::publication_names(publications)}};
  if (server_version >= 140000) {
    s.options.push_back({"messages", "true"});
    if (binary) s.options.push_back({"binary", "true"});
  }
  return s;
}

SlotHealth read_slot_health(pg::Connection &observer, const std::string &slot) {
  pg::Result r = observer.query(sql::replication::slot_health(observer.server_version()), {slot});
  SlotHealth h;
  if (r.rows() == 0) return h;
  h.exists = true;
  h.active = r.get_bool(0, 0);
  if (!r.is_null(0, 1)) h.restart_lsn = logical::Lsn::parse(r.get(0, 1));
  if (!r.is_null(0, 2)) h.confirmed_flush = logical::Lsn::parse(r.get(0, 2));
  if (!r.is_null(0, 3)) h.retained_bytes = r.get_i64(0, 3);
  h.wal_status = std::string(r.get(0, 4));
  if (!r.is_null(0, 5)) h.safe_wal_size = r.get_i64(0, 5);
  if (!r.is_null(0, 6)) h.active_pid = static_cast<int>(r.get_i64(0, 6));
  h.wal_now = logical::Lsn::parse(r.get(0, 7));
  return h;
}

Receiver::Receiver(pg::ReplicationSession &session, pg::Connection &observer, SpoolWriter &spool,
                   ReceiveOptions options)
    : session_(session), observer_(observer), spool_(spool), opt_(std::move(options)) {}

void Receiver::start(const StreamSetup &setup) {
  watch_health();  // a lost slot is named here, before the server's own refusal
  for (const auto until = steady_clock::now() + opt_.active_wait; stats_.health.active;) {
    if (steady_clock::now() >= until)
      throw Error(ErrorKind::Transient,
                  fmt::format("the source's replication slot {} is in use by the server session {} (another "
                              "follower, or one whose connection broke and the server has not noticed yet)",
                              opt_.slot, stats_.health.active_pid),
                  "stop the other follower, or wait until the server ends that session (wal_sender_timeout), "
                  "then rerun");
    cancel::throw_if_requested();
    std::this_thread::sleep_for(milliseconds(100));
    watch_health();
  }
  stats_.received = spool_.durable();
  // Never report less than the slot has confirmed: older servers would move it back.
  stats_.flushed = std::max(spool_.durable(), stats_.health.confirmed_flush);
  session_.start(opt_.slot, spool_.durable(), setup.options);
  last_feedback_ = steady_clock::now();
}

void Receiver::report(bool reply_requested) {
  logical::Lsn flushed = spool_.durable();
  if (!spool_.in_transaction() && spool_.open_bytes() == 0) flushed = std::max(flushed, idle_end_);
  flushed = std::max(flushed, stats_.flushed);  // never backwards
  session_.send_status(std::max(stats_.received, flushed), flushed, flushed, reply_requested);
  stats_.flushed = flushed;
  ++stats_.feedbacks;
  last_feedback_ = steady_clock::now();
}

void Receiver::watch_health() {
  last_health_ = steady_clock::now();
  SlotHealth h = read_slot_health(observer_, opt_.slot);
  stats_.health = h;
  if (!h.exists)
    throw Error(ErrorKind::Permanent, "the source's replication slot " + opt_.slot + " is gone (dropped by someone)",
                "follow mode must start again from a new copy: the changes since the slot was dropped are lost to it");
  if (h.wal_status == "lost")
    throw Error(ErrorKind::Permanent,
                "the source's replication slot " + opt_.slot +
                    " lost WAL it still needed (wal_status lost: max_slot_wal_keep_size was reached)",
                "follow mode must start again from a new copy; raise max_slot_wal_keep_size, or keep the follower "
                "running, so the slot keeps up");
  if (h.wal_status == "unreserved" && !warned_unreserved_) {
    warned_unreserved_ = true;
    log::warn("the source's replication slot {} holds {} MB of WAL, past max_slot_wal_keep_size: the server may "
              "remove WAL it still needs at the next checkpoint{}",
              opt_.slot, h.retained_bytes / (1024 * 1024),
              h.safe_wal_size ? fmt::format(" (safe_wal_size {} MB)", *h.safe_wal_size / (1024 * 1024)) : "");
  }
}

const ReceiveStats &Receiver::run(milliseconds budget, const std::function<bool(const ReceiveStats &)> &until) {
  const auto deadline = steady_clock::now() + budget;
  watch_health();
  for (;;) {
    cancel::throw_if_requested();
    const auto now = steady_clock::now();
    if (now >= deadline || (until && !spool_.in_transaction() && until(stats_))) break;
    const auto wait = std::min(duration_cast<milliseconds>(deadline - now), milliseconds(200));
    std::optional<std::span<const char>> m = session_.next(wait);
    if (m) {
      logical::StreamMessage sm = logical::decode_stream_message(*m);
      if (auto *k = std::get_if<logical::Keepalive>(&sm)) {
        stats_.sender_read = std::max(stats_.sender_read, k->server_end);
        if (!spool_.in_transaction()) idle_end_ = std::max(idle_end_, k->server_end);
        spool_.maybe_cut();
        if (k->reply_requested) report(false);
      } else {
        auto &x = std::get<logical::XLogData>(sm);
        stats_.received = std::max(stats_.received, x.start);
        ++stats_.messages;
        stats_.message_bytes += static_cast<i64>(x.payload.size());
        if (x.payload.size() >= 26 && x.payload[0] == 'C') {
          ++stats_.commits;
          u64 t = 0;  // flags(1), commit LSN(8), end LSN(8), commit time(8)
          for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(x.payload[18 + i]);
          stats_.last_commit_time = static_cast<i64>(t);
        }
        spool_.add(x.start, x.payload);
      }
    } else {
      spool_.maybe_cut();
    }
    if (steady_clock::now() - last_feedback_ >= opt_.feedback_every) report(false);
    if (steady_clock::now() - last_health_ >= opt_.health_every) watch_health();
  }
  spool_.cut();
  report(false);
  watch_health();  // the lag as of the end of the run
  return stats_;
}

}  // namespace pgcutover::follow
