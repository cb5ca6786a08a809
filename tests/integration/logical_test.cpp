// Logical decoding for follow mode (issue 25), on a real server with
// wal_level = logical.
// - The pgoutput decoder (logical/pgoutput) on what the server sends: the
//   messages of a slot read through pg_logical_slot_peek_binary_changes(),
//   which returns the same payloads a walsender streams. Protocol 1 in text
//   form (keys changed, unchanged TOAST values, REPLICA IDENTITY FULL,
//   TRUNCATE of two tables, a logical message), then protocol 2 with binary
//   values and a transaction streamed before its commit.
// - The replication session (pg/replication): a slot created with an
//   exported snapshot, adopted by a SnapshotHolder, meets its own stream
//   exactly while rows are being written; its creation's wait for open
//   transactions is bounded and names them.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "pg_cluster.hpp"
#include "pgcutover/follow/apply.hpp"
#include "pgcutover/follow/receiver.hpp"
#include "pgcutover/follow/spool.hpp"
#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/pg/replication.hpp"
#include "pgcutover/pg/snapshot.hpp"
#include "pgcutover/util/error.hpp"

using namespace pgcutover::testing;
namespace lg = pgcutover::logical;

namespace {

std::string unhex(const std::string &s) {
  EXPECT_EQ(s.rfind("\\x", 0), 0u) << "not a hex bytea: " << s.substr(0, 20);
  std::string out;
  for (size_t i = 2; i + 1 < s.size(); i += 2) out += static_cast<char>(std::stoi(s.substr(i, 2), nullptr, 16));
  return out;
}

struct Pgoutput : ::testing::Test {
  static inline ScopedCluster *server = nullptr;
  static void SetUpTestSuite() {
    server = new ScopedCluster("pgoutput", "",
                               {"wal_level = logical\nmax_replication_slots = 4\nmax_wal_senders = 4\n"
                                "logical_decoding_work_mem = 64kB\n",
                                ""});
  }
  static void TearDownTestSuite() {
    delete server;
    server = nullptr;
  }
  std::string ci() { return server->cluster().conninfo("logical"); }

  void SetUp() override {
    recreate_database(server->cluster(), "logical");
    exec(ci(), R"SQL(
      CREATE TABLE t (id int PRIMARY KEY, a text, b bytea, big text);
      ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL;
      CREATE TABLE f (x int, y text);
      ALTER TABLE f REPLICA IDENTITY FULL;
      CREATE PUBLICATION p FOR TABLE t, f;
    )SQL");
    exec(ci(), "SELECT pg_create_logical_replication_slot('s', 'pgoutput')");  // not in a transaction that wrote
  }
  void TearDown() override { drop_slots(); }

  // Every slot of the database, once its session has let go of it.
  void drop_slots() {
    for (int i = 0; i < 100; ++i) {
      if (query_value(ci(), "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()") == "0")
        return;
      exec(ci(), "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                 "WHERE database = current_database() AND NOT active");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "a replication slot stayed active";
  }
  // Decoding reads up to the WAL flushed, and these clusters commit
  // asynchronously: waits until the WAL written so far is flushed (the WAL
  // writer does it within wal_writer_delay).
  void flush_wal() {
    const std::string upto = query_value(ci(), "SELECT pg_current_wal_insert_lsn()::text");
    for (int i = 0; i < 500; ++i) {
      if (query_value(ci(), "SELECT pg_current_wal_flush_lsn() >= '" + upto + "'::pg_lsn") == "t") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "the WAL was not flushed up to " << upto << " within 10 s";
  }
  static pgcutover::pg::SessionSettings settings() {
    pgcutover::pg::SessionSettings s;
    s.role = "source";
    return s;
  }

  // Streams slot s, through `publication`, into a spool at `dir` until the
  // spool holds every change written so far; the lag as the receiver
  // started and as it ended.
  struct Spooled {
    pgcutover::follow::StreamSetup setup;
    long long lag_before = 0, lag_after = 0;
  };
  Spooled spool_all(const std::string &publication, const std::filesystem::path &dir, long long segment_bytes) {
    namespace fw = pgcutover::follow;
    using namespace std::chrono_literals;
    flush_wal();
    const auto target = pgcutover::logical::Lsn::parse(query_value(ci(), "SELECT pg_current_wal_lsn()::text"));
    std::filesystem::remove_all(dir);
    pgcutover::pg::Connection observer = pgcutover::pg::Connection::open(ci(), settings());
    Spooled out{fw::stream_setup(observer.server_version(), {publication}, false)};
    fw::SpoolOptions so;
    so.dir = dir;
    so.segment_bytes = segment_bytes;
    fw::SpoolWriter spool(so, "s", out.setup.protocol);
    pgcutover::pg::ReplicationSession rs = pgcutover::pg::ReplicationSession::open(ci(), settings());
    fw::Receiver rx(rs, observer, spool, {"s", 200ms, 1000ms});
    rx.start(out.setup);
    out.lag_before = rx.stats().lag_bytes();
    rx.run(60s, [&](const fw::ReceiveStats &s) { return spool.durable() >= target || s.flushed >= target; });
    EXPECT_TRUE(spool.durable() >= target || rx.stats().flushed >= target) << "the receiver did not catch up in 60 s";
    out.lag_after = rx.stats().lag_bytes();
    return out;
  }
  // Feeds segments[first..] to the applier, applying whenever at least
  // `batch` changes are pending at a commit, and what is left at the end.
  static void feed(pgcutover::follow::Applier &applier, const std::vector<pgcutover::follow::SegmentFile> &segments,
                   size_t first, int protocol, long long batch) {
    pgcutover::logical::Decoder d(protocol);
    for (size_t i = first; i < segments.size(); ++i)
      pgcutover::follow::read_segment(segments[i].path, [&](pgcutover::logical::Lsn, std::span<const char> m) {
        pgcutover::logical::Message msg = d.decode(m);
        applier.message(msg);
        if (std::holds_alternative<pgcutover::logical::Commit>(msg) && applier.pending_changes() >= batch)
          applier.apply_pending();
      });
    applier.apply_pending();
  }

  // Every message the slot holds, decoded with protocol `proto` and the options.
  std::vector<std::string> raw(const std::string &options) {
    flush_wal();
    std::vector<std::string> out;
    for (auto &row : query_rows(ci(), "SELECT data FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, " +
                                          options + ")"))
      out.push_back(unhex(*row[0]));
    return out;
  }
};

std::string text(const lg::Value &v) {
  EXPECT_EQ(v.kind, lg::ValueKind::Text);
  return std::string(v.bytes);
}

TEST_F(Pgoutput, ProtocolOneTextMessagesOfEveryKindDecode) {
  // One transaction each (a multi-statement query string would be one).
  for (const char *sql : {
           "INSERT INTO t VALUES (1, 'a', '\\x00ff'::bytea, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g))",
           "UPDATE t SET a = 'b' WHERE id = 1", "UPDATE t SET id = 2 WHERE id = 1", "DELETE FROM t WHERE id = 2",
           "INSERT INTO f VALUES (7, NULL)", "UPDATE f SET y = 'y' WHERE x = 7", "DELETE FROM f", "TRUNCATE t, f",
           "SELECT pg_logical_emit_message(true, 'pgcutover', 'fence 1')"})
    exec(ci(), sql);
  const std::string big = query_value(ci(), "SELECT string_agg(md5(g::text), '') FROM generate_series(1, 200) g");
  const uint32_t t_oid = std::stoul(query_value(ci(), "SELECT 't'::regclass::oid"));
  const uint32_t f_oid = std::stoul(query_value(ci(), "SELECT 'f'::regclass::oid"));
  std::vector<std::string> msgs =
      raw("'proto_version', '1', 'publication_names', 'p', 'messages', 'true'");
  lg::Decoder d(1);
  std::vector<lg::Message> m;
  std::string kinds;
  for (auto &b : msgs) {
    m.push_back(d.decode({b.data(), b.size()}));
    kinds += b[0];
  }
  // Nine transactions: each change in its own, Relation before a table's
  // first change, and again after TRUNCATE gave both tables new storage.
  EXPECT_EQ(kinds, "BRICBUCBUCBDCBRICBUCBDCBRRTCBMC");
  ASSERT_EQ(m.size(), kinds.size());

  // Begin / Commit carry matching positions, increasing.
  lg::Lsn last{};
  for (size_t i = 0; i < m.size(); ++i) {
    if (auto *c = std::get_if<lg::Commit>(&m[i])) {
      EXPECT_GT(c->end_lsn, c->commit_lsn);
      EXPECT_GT(c->commit_lsn, last);
      last = c->commit_lsn;
    }
  }
  auto &rel = std::get<lg::Relation>(m[1]);
  EXPECT_EQ(rel.oid, t_oid);
  EXPECT_EQ(rel.nspname, "public");
  EXPECT_EQ(rel.relname, "t");
  EXPECT_EQ(rel.replica_identity, 'd');
  ASSERT_EQ(rel.columns.size(), 4u);
  EXPECT_TRUE(rel.columns[0].key);
  EXPECT_FALSE(rel.columns[1].key);
  EXPECT_EQ(rel.columns[0].name, "id");
  EXPECT_EQ(rel.columns[0].type, 23u);  // int4
  EXPECT_EQ(rel.columns[2].type, 17u);  // bytea

  auto &ins = std::get<lg::Insert>(m[2]);
  EXPECT_EQ(ins.relation, t_oid);
  ASSERT_EQ(ins.row.size(), 4u);
  EXPECT_EQ(text(ins.row[0]), "1");
  EXPECT_EQ(text(ins.row[1]), "a");
  EXPECT_EQ(text(ins.row[2]), "\\x00ff");
  EXPECT_EQ(text(ins.row[3]), big);

  // The key did not change: no old tuple; the TOASTed column unchanged is not sent.
  auto &u1 = std::get<lg::Update>(m[5]);
  EXPECT_EQ(u1.old_kind, 0);
  ASSERT_EQ(u1.row.size(), 4u);
  EXPECT_EQ(text(u1.row[1]), "b");
  EXPECT_EQ(u1.row[3].kind, lg::ValueKind::Unchanged);
  // The key changed: the old key comes first.
  auto &u2 = std::get<lg::Update>(m[8]);
  EXPECT_EQ(u2.old_kind, 'K');
  EXPECT_EQ(text(u2.old_row[0]), "1");
  EXPECT_EQ(text(u2.row[0]), "2");
  auto &d1 = std::get<lg::Delete>(m[11]);
  EXPECT_EQ(d1.old_kind, 'K');
  EXPECT_EQ(text(d1.old_row[0]), "2");
  EXPECT_EQ(d1.old_row[1].kind, lg::ValueKind::Null);  // only the key's columns are sent

  // REPLICA IDENTITY FULL: the whole old row, NULLs included.
  auto &frel = std::get<lg::Relation>(m[14]);
  EXPECT_EQ(frel.oid, f_oid);
  EXPECT_EQ(frel.replica_identity, 'f');
  auto &fi = std::get<lg::Insert>(m[15]);
  EXPECT_EQ(fi.row[1].kind, lg::ValueKind::Null);
  auto &fu = std::get<lg::Update>(m[18]);
  EXPECT_EQ(fu.old_kind, 'O');
  EXPECT_EQ(text(fu.old_row[0]), "7");
  EXPECT_EQ(fu.old_row[1].kind, lg::ValueKind::Null);
  EXPECT_EQ(text(fu.row[1]), "y");
  auto &fd = std::get<lg::Delete>(m[21]);
  EXPECT_EQ(fd.old_kind, 'O');
  EXPECT_EQ(text(fd.old_row[1]), "y");

  auto &tr = std::get<lg::Truncate>(m[26]);
  EXPECT_EQ(tr.options, 0);
  ASSERT_EQ(tr.relations.size(), 2u);
  EXPECT_EQ((std::set<uint32_t>(tr.relations.begin(), tr.relations.end())), (std::set<uint32_t>{t_oid, f_oid}));

  auto &lm = std::get<lg::LogicalMessage>(m[29]);
  EXPECT_TRUE(lm.transactional);
  EXPECT_EQ(lm.prefix, "pgcutover");
  EXPECT_EQ(std::string(lm.content), "fence 1");

  // The slot's own positions agree with the decoded ones.
  const std::string slot_end =
      query_value(ci(), "SELECT max(lsn)::text FROM pg_logical_slot_peek_binary_changes('s', NULL, NULL, "
                        "'proto_version', '1', 'publication_names', 'p', 'messages', 'true')");
  EXPECT_EQ(lg::Lsn::parse(slot_end), std::get<lg::Commit>(m.back()).end_lsn);
  EXPECT_EQ(lg::Lsn::parse(slot_end).text(), slot_end);
}

TEST_F(Pgoutput, ProtocolTwoBinaryValuesAndAStreamedTransactionDecode) {
  // Over logical_decoding_work_mem (64kB): streamed in pieces before its commit.
  exec(ci(), "INSERT INTO t SELECT g, repeat('v', 100), NULL, NULL FROM generate_series(1, 3000) g");
  std::vector<std::string> msgs =
      raw("'proto_version', '2', 'publication_names', 'p', 'binary', 'true', 'streaming', 'on'");
  lg::Decoder d(2);
  int starts = 0, stops = 0, inserts = 0, commits = 0;
  std::optional<uint32_t> xid;
  long long sum = 0;
  for (auto &b : msgs) {
    lg::Message m = d.decode({b.data(), b.size()});
    if (auto *s = std::get_if<lg::StreamStart>(&m)) {
      ++starts;
      EXPECT_EQ(s->first_segment, starts == 1);
      if (xid) EXPECT_EQ(s->xid, *xid);
      xid = s->xid;
    } else if (std::holds_alternative<lg::StreamStop>(m)) {
      ++stops;
    } else if (auto *i = std::get_if<lg::Insert>(&m)) {
      ++inserts;
      ASSERT_TRUE(i->xid.has_value()) << "a change inside a stream carries its xid";
      EXPECT_EQ(*i->xid, *xid);
      ASSERT_EQ(i->row[0].kind, lg::ValueKind::Binary);
      ASSERT_EQ(i->row[0].bytes.size(), 4u);  // int4, network order
      const auto *p = reinterpret_cast<const unsigned char *>(i->row[0].bytes.data());
      sum += (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
      EXPECT_EQ(std::string(i->row[1].bytes), std::string(100, 'v'));  // text's binary form is its bytes
      EXPECT_EQ(i->row[2].kind, lg::ValueKind::Null);
    } else if (auto *c = std::get_if<lg::StreamCommit>(&m)) {
      ++commits;
      EXPECT_EQ(c->xid, *xid);
    } else if (auto *r = std::get_if<lg::Relation>(&m)) {
      EXPECT_TRUE(r->xid.has_value());
    } else {
      ADD_FAILURE() << "unexpected " << lg::kind_name(m) << " in a streamed transaction";
    }
  }
  EXPECT_GE(starts, 2) << "the transaction was not streamed in pieces";
  EXPECT_EQ(starts, stops);
  EXPECT_EQ(inserts, 3000);
  EXPECT_EQ(sum, 3000LL * 3001 / 2);
  EXPECT_EQ(commits, 1);
  EXPECT_FALSE(d.in_stream());
}

TEST_F(Pgoutput, CutOrUnknownMessagesAreRefusedByName) {
  exec(ci(), "INSERT INTO t VALUES (1, 'a', NULL, NULL)");
  std::vector<std::string> msgs = raw("'proto_version', '1', 'publication_names', 'p'");
  ASSERT_EQ(msgs.size(), 4u);  // B R I C
  std::string ins = msgs[2];
  ASSERT_EQ(ins[0], 'I');
  for (size_t cut : {size_t{1}, size_t{6}, ins.size() - 1}) {
    lg::Decoder d(1);
    try {
      d.decode({ins.data(), cut});
      ADD_FAILURE() << "an Insert cut to " << cut << " bytes decoded";
    } catch (const pgcutover::Error &e) {
      EXPECT_EQ(e.kind, pgcutover::ErrorKind::DataFormat);
      EXPECT_NE(std::string(e.what()).find("Insert"), std::string::npos) << e.what();
    }
  }
  std::string extra = ins + "x";
  lg::Decoder d(1);
  EXPECT_THROW(d.decode({extra.data(), extra.size()}), pgcutover::Error);
  std::string unknown = "Z";
  EXPECT_THROW(d.decode({unknown.data(), unknown.size()}), pgcutover::Error);
  // A value kind that does not exist.
  std::string bad = ins;
  const size_t at = bad.find('t', 1 + 4 + 1 + 2);  // the first column's kind, after 'I', the oid, 'N' and the count
  ASSERT_NE(at, std::string::npos);
  bad[at] = 'x';
  try {
    lg::Decoder(1).decode({bad.data(), bad.size()});
    ADD_FAILURE() << "a column of kind 'x' decoded";
  } catch (const pgcutover::Error &e) {
    EXPECT_NE(std::string(e.what()).find("unknown column kind 'x'"), std::string::npos) << e.what();
  }
}

// The slot's exported snapshot, adopted by a SnapshotHolder and read there,
// and the slot's stream from its consistent point: while a writer commits
// row after row, every row is in exactly one of the two.
TEST_F(Pgoutput, TheSlotsSnapshotAndItsStreamMeetExactlyUnderWrites) {
  namespace pg = pgcutover::pg;
  using namespace std::chrono_literals;
  exec(ci(), "INSERT INTO t SELECT g, 'base', NULL, NULL FROM generate_series(1, 1000) g");
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    pg::Connection w = pg::Connection::open(ci(), settings());
    for (int i = 100000; !stop; ++i) {
      w.exec("INSERT INTO public.t VALUES (" + std::to_string(i) + ", 'w', NULL, NULL)");
      ++written;
    }
  });
  auto wait_written = [&](int n) {
    for (int i = 0; i < 3000 && written < n; ++i) std::this_thread::sleep_for(5ms);
  };
  wait_written(50);
  pg::Connection observer = pg::Connection::open(ci(), settings());
  pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
  pg::CreatedSlot slot = rs.create_slot("follow_1", 60s, observer);
  EXPECT_EQ(slot.name, "follow_1");
  EXPECT_FALSE(slot.snapshot.empty());
  pg::SnapshotHolder holder(pg::Connection::open(ci(), settings()), slot.snapshot, "");
  const int at_snapshot = written;
  wait_written(at_snapshot + 150);  // rows committed after the snapshot
  stop = true;
  writer.join();
  ASSERT_GT(written.load(), at_snapshot + 100) << "the writer stalled";

  std::set<long> seen, streamed;
  {
    pg::Result r = holder.conn().exec("SELECT id FROM public.t");
    for (int i = 0; i < r.rows(); ++i) seen.insert(r.get_i64(i, 0));
  }
  exec(ci(), "SELECT pg_logical_emit_message(true, 'test', 'end')");
  rs.start("follow_1", slot.consistent_point, {{"proto_version", "1"}, {"publication_names", "p"}, {"messages", "true"}});
  lg::Decoder d(1);
  bool end = false;
  int commits = 0;
  lg::Lsn flushed{};
  const auto t0 = std::chrono::steady_clock::now();
  while (!end && std::chrono::steady_clock::now() - t0 < 60s) {
    auto m = rs.next(1s);
    if (!m) continue;
    lg::StreamMessage sm = lg::decode_stream_message(*m);
    if (auto *k = std::get_if<lg::Keepalive>(&sm)) {
      if (k->reply_requested) rs.send_status(flushed, flushed, flushed);
      continue;
    }
    auto &x = std::get<lg::XLogData>(sm);
    lg::Message msg = d.decode(x.payload);
    if (auto *i = std::get_if<lg::Insert>(&msg)) {
      EXPECT_TRUE(streamed.insert(std::stol(std::string(i->row[0].bytes))).second) << "a row streamed twice";
    } else if (auto *c = std::get_if<lg::Commit>(&msg)) {
      EXPECT_GE(c->commit_lsn, slot.consistent_point) << "a transaction of the snapshot streamed";
      flushed = c->end_lsn;
      ++commits;
    } else if (auto *lm = std::get_if<lg::LogicalMessage>(&msg)) {
      end = lm->prefix == "test";
    }
  }
  ASSERT_TRUE(end) << "the stream did not reach the end marker in 60 s";
  rs.send_status(flushed, flushed, flushed);

  std::set<long> all;
  for (auto &row : query_rows(ci(), "SELECT id FROM t")) all.insert(std::stol(*row[0]));
  std::set<long> both, either(seen);
  for (long id : streamed) {
    if (seen.count(id)) both.insert(id);
    either.insert(id);
  }
  EXPECT_TRUE(both.empty()) << both.size() << " rows both in the snapshot and in the stream, first " << *both.begin();
  EXPECT_EQ(either, all) << "rows missing from both: " << all.size() - either.size();
  EXPECT_GT(seen.size(), 1000u + 50) << "the snapshot saw none of the writes before it";
  EXPECT_GE(streamed.size(), 100u) << "the stream had too few of the writes after the snapshot";
  EXPECT_EQ(commits, static_cast<int>(streamed.size()));  // one row per transaction (the marker's commit is not read)
}

// The slot's creation waits for every transaction holding an xid on the
// server, in any database: bounded, it fails naming the one that holds it,
// leaves no slot, and goes through once that transaction ends.
TEST_F(Pgoutput, ASlotsCreationWaitsBoundedAndNamesTheOpenTransaction) {
  namespace pg = pgcutover::pg;
  using namespace std::chrono_literals;
  recreate_database(server->cluster(), "elsewhere");
  pg::Connection open_tx = pg::Connection::open(server->cluster().conninfo("elsewhere"), settings());
  open_tx.exec("BEGIN");
  const std::string xid = std::string(open_tx.exec("SELECT txid_current()").get(0, 0));
  const int pid = PQbackendPID(open_tx.raw());
  pg::Connection observer = pg::Connection::open(ci(), settings());
  {
    pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
    const auto t0 = std::chrono::steady_clock::now();
    try {
      rs.create_slot("blocked", 1500ms, observer);
      ADD_FAILURE() << "the slot was created while transaction " << xid << " was open";
    } catch (const pgcutover::Error &e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("session " + std::to_string(pid)), std::string::npos) << what;
      EXPECT_NE(what.find("database elsewhere"), std::string::npos) << what;
      EXPECT_NE(what.find("blocked"), std::string::npos) << what;
      EXPECT_FALSE(e.hint.empty());
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 15s) << "the wait was not bounded";
  }
  drop_slots();  // none should be left; an ephemeral one would show here
  EXPECT_EQ(query_value(ci(), "SELECT count(*) FROM pg_replication_slots"), "0");
  open_tx.exec("COMMIT");
  pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
  pg::CreatedSlot slot = rs.create_slot("blocked", 30s, observer);
  EXPECT_EQ(slot.name, "blocked");
}

// The spool under a real stream: a writer commits transaction after
// transaction while the receiver spools them; twice the WAL sender is killed
// and the tool's open segment dropped (as a kill -9 of the tool would), and
// a new receiver resumes from the spool. Every committed row is in the
// finished segments exactly once, transactions in commit order, checked
// against the table itself; the slot was never told more than was durable
// (else the dropped segments' transactions would be missing), and its WAL
// was released as segments finished.
TEST_F(Pgoutput, TheSpoolHoldsEveryCommitOnceAcrossKilledSendersAndDroppedSegments) {
  namespace pg = pgcutover::pg;
  namespace fw = pgcutover::follow;
  using namespace std::chrono_literals;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pgcutover_spool_it_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::atomic<bool> stop{false};
  std::atomic<int> committed{0};
  std::thread writer;
  struct Join {  // a failing assertion or exception still stops the writer
    std::atomic<bool> &stop;
    std::thread &t;
    ~Join() {
      stop = true;
      if (t.joinable()) t.join();
    }
  } join{stop, writer};
  writer = std::thread([&] {
    pg::Connection w = pg::Connection::open(ci(), settings());
    for (int i = 1; !stop; ++i) {  // transactions of one to three rows
      std::string sql = "INSERT INTO public.t VALUES (" + std::to_string(i * 10) + ", 'w', NULL, NULL)";
      for (int k = 1; k < 1 + i % 3; ++k) sql += ", (" + std::to_string(i * 10 + k) + ", 'w', NULL, NULL)";
      w.exec(sql);
      ++committed;
      std::this_thread::sleep_for(2ms);
    }
  });
  pg::Connection observer = pg::Connection::open(ci(), settings());
  const int server_version = observer.server_version();
  fw::StreamSetup setup = fw::stream_setup(server_version, {"p"}, false);
  fw::SpoolOptions so;
  so.dir = dir;
  so.segment_age = 400ms;
  fw::ReceiveOptions ro;
  ro.slot = "s";
  ro.feedback_every = 100ms;
  ro.health_every = 300ms;
  const fw::SlotHealth before = fw::read_slot_health(observer, "s");
  ASSERT_TRUE(before.exists);
  int rounds_killed = 0, dropped_with_commits = 0;
  for (int round = 0; round < 3; ++round) {
    fw::SpoolWriter spool(so, "s", setup.protocol);
    pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
    fw::Receiver rx(rs, observer, spool, ro);
    rx.start(setup);
    if (round == 2) {  // the last round: the writer stops, the receiver catches up to its last commit
      std::this_thread::sleep_for(500ms);
      stop = true;
      writer.join();
      flush_wal();
      const auto target = pgcutover::logical::Lsn::parse(query_value(ci(), "SELECT pg_current_wal_lsn()::text"));
      rx.run(60s, [&](const fw::ReceiveStats &) { return spool.durable() >= target || rx.stats().flushed >= target; });
      EXPECT_TRUE(spool.durable() >= target || rx.stats().flushed >= target) << "the receiver did not catch up in 60 s";
      // Caught up: the last commit is the writer's, seconds ago at most.
      const long long age_us = pgcutover::logical::pg_epoch_micros_now() - rx.stats().last_commit_time;
      EXPECT_GE(age_us, 0);
      EXPECT_LT(age_us, 30LL * 1000 * 1000) << "the last commit's time was not read";
      // The slot's restart point moves once the server has decoded a record
      // of the running transactions (a checkpoint writes one) and heard a
      // flush position past it: the WAL behind is released.
      exec(ci(), "CHECKPOINT");
      rx.run(20s, [&](const fw::ReceiveStats &) {
        return fw::read_slot_health(observer, "s").restart_lsn > before.restart_lsn;
      });
      break;
    }
    // Run until a feedback went out and the open segment holds commits not
    // yet durable, then kill the WAL sender.
    const int pid = rs.backend_pid();
    std::thread killer([&] {
      std::this_thread::sleep_for(1300ms);
      exec(ci(), "SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    });
    try {
      rx.run(30s);
      ADD_FAILURE() << "the stream went on after its WAL sender was killed";
    } catch (const pgcutover::Error &e) {
      EXPECT_EQ(e.kind, pgcutover::ErrorKind::Transient) << e.what();
      ++rounds_killed;
    }
    killer.join();
    EXPECT_GT(rx.stats().feedbacks, 3);
    if (spool.open_bytes() > 0) ++dropped_with_commits;
  }  // each round's SpoolWriter drops its open segment here
  EXPECT_EQ(rounds_killed, 2);
  EXPECT_GE(dropped_with_commits, 1) << "no kill found unfinished transactions to drop: the test proved nothing";

  // The independent check: the rows in the table against the spool.
  std::map<long, int> spooled;
  pgcutover::logical::Decoder d(setup.protocol);
  pgcutover::logical::Lsn last_commit{};
  int commits = 0;
  for (auto &seg : fw::list_segments(dir)) {
    fw::read_segment(seg.path, [&](pgcutover::logical::Lsn, std::span<const char> m) {
      pgcutover::logical::Message msg = d.decode(m);
      if (auto *i = std::get_if<pgcutover::logical::Insert>(&msg)) ++spooled[std::stol(std::string(i->row[0].bytes))];
      if (auto *c = std::get_if<pgcutover::logical::Commit>(&msg)) {
        EXPECT_GT(c->commit_lsn, last_commit) << "transactions out of commit order";
        last_commit = c->commit_lsn;
        ++commits;
      }
    });
  }
  std::set<long> table;
  for (auto &row : query_rows(ci(), "SELECT id FROM t")) table.insert(std::stol(*row[0]));
  EXPECT_EQ(commits, committed.load());
  EXPECT_EQ(spooled.size(), table.size());
  int twice = 0, missing = 0;
  for (auto &[id, n] : spooled) twice += n > 1;
  for (long id : table) missing += spooled.count(id) == 0;
  EXPECT_EQ(twice, 0) << "rows spooled more than once";
  EXPECT_EQ(missing, 0) << "committed rows missing from the spool";
  EXPECT_GT(table.size(), 300u) << "the writer wrote too little to test anything";
  const fw::SlotHealth after = fw::read_slot_health(observer, "s");
  EXPECT_GT(after.confirmed_flush, before.confirmed_flush);
  EXPECT_GT(after.restart_lsn, before.restart_lsn) << "the slot kept all its WAL: the spool's feedback did not release it";
  EXPECT_EQ(after.wal_status, server_version >= 130000 ? "reserved" : "");
  std::filesystem::remove_all(dir);
}

// A slot whose WAL the server removed (max_slot_wal_keep_size) is named as
// lost before any streaming, with what to do.
TEST_F(Pgoutput, ASlotThatLostItsWalIsRefusedByName) {
  namespace pg = pgcutover::pg;
  namespace fw = pgcutover::follow;
  exec(ci(), "ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'");
  exec(ci(), "SELECT pg_reload_conf()");
  struct Reset {
    std::string ci;
    ~Reset() {
      try {
        exec(ci, "ALTER SYSTEM RESET max_slot_wal_keep_size");
        exec(ci, "SELECT pg_reload_conf()");
      } catch (const std::exception &e) {
        ADD_FAILURE() << "could not reset max_slot_wal_keep_size: " << e.what();
      }
    }
  } reset{ci()};
  std::string status;
  for (int i = 0; i < 10 && status != "lost"; ++i) {
    exec(ci(), "INSERT INTO t SELECT g, 'x', NULL, NULL FROM generate_series(" + std::to_string(i * 1000 + 1) + ", " +
                   std::to_string(i * 1000 + 1000) + ") g");
    exec(ci(), "SELECT pg_switch_wal()");
    exec(ci(), "CHECKPOINT");
    status = query_value(ci(), "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 's'");
  }
  ASSERT_EQ(status, "lost") << "the server kept the slot's WAL";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pgcutover_spool_lost_" + std::to_string(::getpid()));
  pg::Connection observer = pg::Connection::open(ci(), settings());
  fw::SpoolWriter spool({dir}, "s", 1);
  pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
  fw::Receiver rx(rs, observer, spool, {"s"});
  try {
    rx.start(fw::stream_setup(observer.server_version(), {"p"}, false));
    ADD_FAILURE() << "a lost slot was streamed";
  } catch (const pgcutover::Error &e) {
    const std::string what = e.what();
    EXPECT_EQ(e.kind, pgcutover::ErrorKind::Permanent);
    EXPECT_NE(what.find("slot s "), std::string::npos) << what;
    EXPECT_NE(what.find("max_slot_wal_keep_size"), std::string::npos) << what;
    EXPECT_NE(e.hint.find("new copy"), std::string::npos) << e.hint;
  }
  std::filesystem::remove_all(dir);
}

// A slot another session streams is waited for, bounded, then named.
TEST_F(Pgoutput, ASlotAnotherSessionStreamsIsNamedAfterABoundedWait) {
  namespace pg = pgcutover::pg;
  namespace fw = pgcutover::follow;
  using namespace std::chrono_literals;
  pg::Connection observer = pg::Connection::open(ci(), settings());
  const fw::StreamSetup setup = fw::stream_setup(observer.server_version(), {"p"}, false);
  pg::ReplicationSession other = pg::ReplicationSession::open(ci(), settings());
  other.start("s", {}, setup.options);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pgcutover_spool_busy_" + std::to_string(::getpid()));
  fw::SpoolWriter spool({dir}, "s", setup.protocol);
  pg::ReplicationSession rs = pg::ReplicationSession::open(ci(), settings());
  fw::ReceiveOptions ro{"s"};
  ro.active_wait = 1500ms;
  fw::Receiver rx(rs, observer, spool, ro);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    rx.start(setup);
    ADD_FAILURE() << "a slot another session streams was started";
  } catch (const pgcutover::Error &e) {
    EXPECT_EQ(e.kind, pgcutover::ErrorKind::Transient);
    EXPECT_NE(std::string(e.what()).find("session " + std::to_string(other.backend_pid())), std::string::npos)
        << e.what();
  }
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 1400ms) << "it did not wait";
  std::filesystem::remove_all(dir);
}

// The apply (one connection): the stream of a writer's transactions
// (inserts, updates leaving a wide TOAST value unchanged, keys moved with
// and without unchanged values, deletes and re-inserts, text with tabs,
// newlines and backslashes, NULLs, a TRUNCATE) goes through the spool and is
// applied batch by batch to a database that held the same rows when the
// slot was made. Both databases are then compared by content (md5 of every
// row's text, in key order), independently of the applier.
TEST_F(Pgoutput, TheApplierBringsATargetToTheSourcesContentBatchByBatch) {
  namespace pg = pgcutover::pg;
  namespace fw = pgcutover::follow;
  using namespace std::chrono_literals;
  // A domain that refuses NULL (the stage must not), an identity column
  // GENERATED ALWAYS (never assigned by an update), a child table with a
  // foreign key.
  const char *ddl = R"SQL(
    CREATE DOMAIN d_tag AS text NOT NULL CHECK (VALUE <> '');
    CREATE TABLE w (id int PRIMARY KEY, note text, big text, n numeric, ts timestamptz, tag d_tag NOT NULL DEFAULT 'x',
                    seq bigint GENERATED ALWAYS AS IDENTITY);
    ALTER TABLE w ALTER COLUMN big SET STORAGE EXTERNAL;
    CREATE TABLE k2 (a int, b text, v text, PRIMARY KEY (a, b));
    CREATE TABLE child (id int PRIMARY KEY, w_id int REFERENCES w (id), v text);
    CREATE TABLE u (id int PRIMARY KEY, code text NOT NULL UNIQUE);
    INSERT INTO u VALUES (1, 'a'), (2, 'b'), (3, 'c');
    INSERT INTO w (id, note, big, n, ts) SELECT g, 'base ' || g, CASE WHEN g % 3 = 0 THEN repeat(md5(g::text), 100) END, g / 7.0,
                         '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute'
      FROM generate_series(1, 2000) g;
    INSERT INTO k2 SELECT g % 10, 'b' || g, 'v' FROM generate_series(1, 200) g;
    INSERT INTO child VALUES (1, 1000, 'c');
  )SQL";
  exec(ci(), ddl);
  exec(ci(), "CREATE PUBLICATION pw FOR TABLE w, k2, child, u");
  recreate_database(server->cluster(), "applied");
  const std::string tci = server->cluster().conninfo("applied");
  exec(tci, ddl);
  // Only on the target: a trigger that would spoil every row it touched (the
  // applier's replica role keeps it quiet, as PostgreSQL's own apply does).
  exec(tci, R"SQL(
    CREATE FUNCTION spoil() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.note := 'spoiled'; RETURN NEW; END $$;
    CREATE TRIGGER spoil BEFORE INSERT OR UPDATE ON w FOR EACH ROW EXECUTE FUNCTION spoil();
  )SQL");
  exec(ci(), "SELECT pg_drop_replication_slot('s')");
  exec(ci(), "SELECT pg_create_logical_replication_slot('s', 'pgoutput')");
  for (const char *sql : {
           "UPDATE w SET note = 'tab\there, newline\nhere, backslash \\ here' WHERE id = 3",
           "UPDATE w SET note = NULL, n = NULL WHERE id BETWEEN 4 AND 9",
           "UPDATE w SET big = repeat('z', 7000) WHERE id = 6",
           "UPDATE w SET id = id + 100000 WHERE id BETWEEN 10 AND 30",       // keys moved, big unchanged
           "UPDATE w SET note = 'moved twice' WHERE id = 100012",
           "UPDATE w SET id = 200012 WHERE id = 100012",
           "DELETE FROM w WHERE id BETWEEN 40 AND 60",
           "INSERT INTO w VALUES (45, 'back', repeat('q', 5000), 1.5, now())",
           "INSERT INTO w SELECT g, 'new', NULL, g, now() FROM generate_series(3001, 4000) g",
           "UPDATE w SET note = note || ' bulk' WHERE id > 1500",
           "BEGIN; UPDATE w SET id = 30 WHERE id = 100030; DELETE FROM w WHERE id = 31; COMMIT",
           "UPDATE k2 SET b = b || 'x' WHERE a = 3",                        // composite keys moved
           "DELETE FROM k2 WHERE a = 4",
           "UPDATE w SET tag = 'y' WHERE id BETWEEN 70 AND 80",
           // child's first change in the batch comes before its new parent's
           "UPDATE child SET v = 'c2' WHERE id = 1",
           "BEGIN; INSERT INTO w (id, note) VALUES (9999, 'parent'); INSERT INTO child VALUES (2, 9999, 'new'); COMMIT",
           // unique values swapped through a third one: the sets meet a unique violation
           "BEGIN; UPDATE u SET code = 'tmp' WHERE id = 1; UPDATE u SET code = 'a' WHERE id = 2; "
           "UPDATE u SET code = 'b' WHERE id = 1; COMMIT",
       })
    exec(ci(), sql);
  for (int i = 0; i < 50; ++i)
    exec(ci(), "UPDATE w SET note = 'round " + std::to_string(i) + "' WHERE id > 100 AND id % 50 = " + std::to_string(i));
  // A TRUNCATE with changes before and after it in its own transaction.
  exec(ci(), "BEGIN; UPDATE k2 SET v = 'before' WHERE a = 1; TRUNCATE k2; INSERT INTO k2 VALUES (1, 'after', 'truncate'); "
             "UPDATE k2 SET v = 'after, changed' WHERE a = 1; COMMIT");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pgcutover_apply_it_" + std::to_string(::getpid()));
  const Spooled sp = spool_all("pw", dir, 64 * 1024);
  // The lag: the WAL the writes made since the slot, none of it spooled yet; then almost none.
  EXPECT_GT(sp.lag_before, 100 * 1024) << "the lag did not count the WAL written since the slot";
  EXPECT_LT(sp.lag_after, 64 * 1024) << "lag " << sp.lag_after << " after catching up, " << sp.lag_before << " before";
  pg::Connection dst = pg::Connection::open(tci, settings());
  fw::Applier applier(dst);
  feed(applier, fw::list_segments(dir), 0, sp.setup.protocol, 300);
  const fw::ApplyStats &st = applier.stats();
  EXPECT_GT(st.batches, 3);
  EXPECT_GT(st.ordered_changes, 0) << "no key moved with an unchanged value reached the ordered replay";
  EXPECT_GT(st.updated, 0) << "no partial update (unchanged TOAST values)";
  EXPECT_GT(st.deleted, 0);
  EXPECT_EQ(st.truncates, 1);
  EXPECT_GE(st.unique_fallbacks, 1) << "the swap of unique values did not go through the ordered replay";
  for (const char *table : {"w", "k2", "child", "u"}) {
    const std::string digest = std::string("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY ") +
                               (std::string(table) == "k2" ? "a, b" : "id") + ")), '') FROM " + table + " x";
    EXPECT_EQ(query_value(tci, digest), query_value(ci(), digest)) << "table " << table << " differs";
  }
  EXPECT_EQ(query_value(tci, "SELECT note FROM w WHERE id = 3"), "tab\there, newline\nhere, backslash \\ here");
  std::filesystem::remove_all(dir);
}

// Crash safety of the apply: the applied position commits with its batch.
// A batch that fails on the target (a CHECK constraint only the target has
// refuses a value one transaction writes) rolls back with its position; an
// applier started anew, fed the whole spool from its first segment, passes
// over what was applied, applies the rest and reaches the source's
// content; a third one, fed it all again, has nothing left to do.
TEST_F(Pgoutput, TheAppliedPositionCommitsWithItsBatchAndARestartGoesOnFromIt) {
  namespace pg = pgcutover::pg;
  namespace fw = pgcutover::follow;
  using namespace std::chrono_literals;
  const char *ddl = R"SQL(
    CREATE TABLE w (id int PRIMARY KEY, note text, big text);
    ALTER TABLE w ALTER COLUMN big SET STORAGE EXTERNAL;
    INSERT INTO w SELECT g, 'base', repeat(md5(g::text), 100) FROM generate_series(1, 500) g;
  )SQL";
  exec(ci(), ddl);
  exec(ci(), "CREATE PUBLICATION pw FOR TABLE w");
  recreate_database(server->cluster(), "applied");
  const std::string tci = server->cluster().conninfo("applied");
  exec(tci, ddl);
  exec(tci, "ALTER TABLE w ADD CONSTRAINT no_poison CHECK (note IS DISTINCT FROM 'poison')");
  exec(ci(), "SELECT pg_drop_replication_slot('s')");
  exec(ci(), "SELECT pg_create_logical_replication_slot('s', 'pgoutput')");
  for (int i = 0; i < 300; ++i) {
    std::string sql = "UPDATE w SET note = 'n" + std::to_string(i) + "' WHERE id % 100 = " + std::to_string(i % 100);
    if (i == 150) sql = "UPDATE w SET note = 'poison' WHERE id = 7";
    if (i % 37 == 0) sql = "DELETE FROM w WHERE id = " + std::to_string(i + 1);
    exec(ci(), sql);
  }
  exec(ci(), "UPDATE w SET note = 'cured' WHERE id = 7");
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("pgcutover_applied_it_" + std::to_string(::getpid()));
  const fw::StreamSetup setup = spool_all("pw", dir, 4 * 1024).setup;  // many segments, each starting with the table's description
  const auto segments = fw::list_segments(dir);
  ASSERT_GT(segments.size(), 5u);
  fw::ApplyOptions ao;
  ao.tool_schema = {"pgcutover_follow_t"};
  ao.slot = "s";
  // Feeds the segments from `first` on to a new applier, a batch every 20 changes.
  auto run = [&](size_t first, fw::ApplyStats &stats, pgcutover::logical::Lsn &applied) {
    pg::Connection dst = pg::Connection::open(tci, settings());
    fw::Applier applier(dst, ao);
    try {
      feed(applier, segments, first, setup.protocol, 20);
    } catch (...) {
      stats = applier.stats();
      applied = applier.applied();
      throw;
    }
    stats = applier.stats();
    applied = applier.applied();
  };
  fw::ApplyStats first_stats, second_stats, third_stats;
  pgcutover::logical::Lsn first_applied, second_applied, third_applied;
  try {
    run(0, first_stats, first_applied);
    FAIL() << "the poisoned batch was applied";
  } catch (const pgcutover::Error &e) {
    EXPECT_NE(std::string(e.what()).find("no_poison"), std::string::npos) << e.what();
  }
  ASSERT_GT(first_stats.batches, 3) << "the poison came before any batch";
  const std::string recorded = query_value(tci, "SELECT applied_end::text FROM pgcutover_follow_t.follow_applied WHERE slot = 's'");
  EXPECT_EQ(recorded, first_applied.text()) << "the position recorded is not the last batch committed";
  // Row 7's last change before the poison (transaction 107) is in a batch
  // committed long before (batches of about 4 transactions); the poisoned
  // batch's changes are gone with it.
  EXPECT_EQ(query_value(tci, "SELECT note FROM w WHERE id = 7"), "n107") << "a rolled-back batch left rows behind";
  EXPECT_EQ(query_value(tci, "SELECT count(*) FROM w WHERE note = 'n151'"), "0") << "a change after the failed batch was written";

  exec(tci, "ALTER TABLE w DROP CONSTRAINT no_poison");
  run(0, second_stats, second_applied);
  EXPECT_GT(second_stats.transactions_passed, 50) << "the restart applied again what was committed";
  long long changes_in_spool = 0;  // counted by the test, from the segments
  {
    pgcutover::logical::Decoder d(setup.protocol);
    for (auto &seg : segments)
      fw::read_segment(seg.path, [&](pgcutover::logical::Lsn, std::span<const char> m) {
        pgcutover::logical::Message msg = d.decode(m);
        changes_in_spool += std::holds_alternative<pgcutover::logical::Insert>(msg) ||
                            std::holds_alternative<pgcutover::logical::Update>(msg) ||
                            std::holds_alternative<pgcutover::logical::Delete>(msg);
      });
  }
  EXPECT_EQ(first_stats.changes + second_stats.changes, changes_in_spool)
      << "the two appliers together did not apply every change exactly once";
  const std::string digest = "SELECT count(*) || ':' || md5(string_agg(x::text, '|' ORDER BY id)) FROM w x";
  EXPECT_EQ(query_value(tci, digest), query_value(ci(), digest)) << "the target differs after the restart";
  EXPECT_GE(second_applied, first_applied);

  // From a later segment (an older one already removed): the same.
  run(segments.size() / 2, third_stats, third_applied);
  EXPECT_EQ(third_stats.changes, 0) << "an applier fed what was applied applied it again";
  EXPECT_EQ(third_stats.batches, 0);
  EXPECT_EQ(query_value(tci, digest), query_value(ci(), digest));
  std::filesystem::remove_all(dir);
}

// `plan` says per table how follow mode would carry it, and what the source
// lacks for it, before anything starts.
TEST_F(Pgoutput, PlanShowsEachTablesFollowClassAndWhatTheSourceLacks) {
  using nlohmann::json;
  exec(ci(), R"SQL(
    CREATE TABLE u (code text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), v text);
    CREATE UNIQUE INDEX u_code ON u (code);
    CREATE INDEX u_updated ON u (updated_at);
    CREATE TABLE n (v text);
    CREATE UNLOGGED TABLE lg (id int PRIMARY KEY, updated_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX lg_updated ON lg (updated_at);
    CREATE TABLE i (id int PRIMARY KEY, other int NOT NULL, v text);
    CREATE UNIQUE INDEX i_other ON i (other);
    ALTER TABLE i REPLICA IDENTITY USING INDEX i_other;
    CREATE TABLE dpk (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v text);
    CREATE ROLE plain LOGIN;
    GRANT SELECT ON ALL TABLES IN SCHEMA public TO plain;
  )SQL");
  recreate_database(target_cluster(), "follow_target");
  const std::string dst = target_cluster().conninfo("follow_target");
  auto plan = [&](const std::string &src, std::vector<std::string> extra = {}) {
    std::vector<std::string> a = {"plan", "--source", src, "--target", dst, "--json", "--no-privileges"};  // role plain: source only
    a.insert(a.end(), extra.begin(), extra.end());
    RunResult r = run_pgcutover(a);
    json j = json::parse(r.out);
    EXPECT_EQ(r.exit_code, 0) << r.err << j["refused"].dump() << j["schema_problem"].dump();
    return j;
  };
  auto classes = [](const json &p) {
    std::map<std::string, std::string> out;
    for (const json &t : p["tables"]) out[t["table"].get<std::string>()] = t["follow"]["class"].get<std::string>();
    return out;
  };
  json p = plan(ci());
  EXPECT_TRUE(p["follow"]["available"].get<bool>()) << p["follow"].dump();
  EXPECT_EQ(classes(p), (std::map<std::string, std::string>{{"public.t", "follow"},
                                                            {"public.f", "follow"},
                                                            {"public.u", "watermark"},
                                                            {"public.n", "copy-in-outage"},
                                                            {"public.lg", "watermark"},
                                                            {"public.i", "copy-in-outage"},
                                                            {"public.dpk", "copy-in-outage"}}));
  for (const json &t : p["tables"]) {
    const std::string name = t["table"];
    if (name == "public.u")
      EXPECT_EQ(t["follow"]["alter"], "ALTER TABLE \"public\".\"u\" REPLICA IDENTITY USING INDEX \"u_code\"");
    if (name == "public.n") EXPECT_EQ(t["follow"]["alter"], "ALTER TABLE \"public\".\"n\" REPLICA IDENTITY FULL");
    if (name == "public.lg") EXPECT_TRUE(t["follow"]["alter"].is_null()) << "no ALTER makes an unlogged table decodable";
    if (name == "public.dpk")  // a deferrable key is never a replica identity, nor may USING INDEX name it
      EXPECT_EQ(t["follow"]["alter"], "ALTER TABLE \"public\".\"dpk\" REPLICA IDENTITY FULL");
    if (name == "public.i")
      EXPECT_NE(t["follow"]["reason"].get<std::string>().find("i_other"), std::string::npos) << t["follow"].dump();
  }
  // With the ALTERs allowed, the tables with a key or none become followable; nothing was altered by plan.
  json q = plan(ci(), {"--allow-replica-identity"});
  std::map<std::string, std::string> c = classes(q);
  EXPECT_EQ(c["public.u"], "follow-after-alter");
  EXPECT_EQ(c["public.n"], "follow-after-alter");
  EXPECT_EQ(c["public.i"], "follow-after-alter");
  EXPECT_EQ(c["public.dpk"], "follow-after-alter");
  EXPECT_EQ(c["public.lg"], "watermark");
  EXPECT_EQ(query_value(ci(), "SELECT string_agg(relname || ':' || relreplident::text, ',' ORDER BY relname) FROM pg_class "
                              "WHERE relname IN ('u', 'n', 'i')"),
            "i:i,n:d,u:d");

  // The server agrees: published as they are, the tables plan keeps off the
  // stream for want of a replica identity refuse their updates.
  exec(ci(), "INSERT INTO dpk VALUES (1, 'a'); INSERT INTO u (code) VALUES ('a')");
  exec(ci(), "CREATE PUBLICATION probe FOR TABLE dpk, u");
  for (const char *t : {"dpk", "u"})
    EXPECT_THROW(exec(ci(), std::string("UPDATE ") + t + " SET v = 'b'"), std::runtime_error) << t;
  exec(ci(), "DROP PUBLICATION probe");
  exec(ci(), "UPDATE dpk SET v = 'b'");  // unpublished, it may

  // A role without REPLICATION that owns none of the tables: both named.
  json r = plan(server->cluster().conninfo("logical", "plain"));
  EXPECT_FALSE(r["follow"]["available"].get<bool>());
  const std::string missing = r["follow"]["missing"].dump();
  EXPECT_NE(missing.find("may not replicate"), std::string::npos) << missing;
  EXPECT_NE(missing.find("does not own"), std::string::npos) << missing;
  EXPECT_NE(missing.find("public.t"), std::string::npos) << missing;

  // A source without wal_level = logical (the suite's own): named with what to set.
  recreate_database(source_cluster(), "follow_plain");
  exec(source_cluster().conninfo("follow_plain"), "CREATE TABLE t (id int PRIMARY KEY)");
  json w = plan(source_cluster().conninfo("follow_plain"));
  EXPECT_FALSE(w["follow"]["available"].get<bool>());
  EXPECT_NE(w["follow"]["missing"].dump().find("wal_level = logical"), std::string::npos) << w["follow"].dump();
  exec(server->cluster().conninfo("logical"), "DROP OWNED BY plain; DROP ROLE plain");
}

}  // namespace
