// The follow mode's spool on synthetic pgoutput messages: segments cut only
// at transaction ends, the durable position, a restart that resumes from the
// last finished segment, transactions sent again left out, and a folder of
// another slot or a damaged segment refused. (The spool under a real
// server's stream, with kills, is in tests/integration/logical_test.cpp.)
#include "pgcutover/follow/spool.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "pgcutover/logical/pgoutput.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::follow {
namespace {

namespace fs = std::filesystem;
using logical::Lsn;

struct Dir {
  fs::path root;
  Dir() {
    static std::atomic<int> n{0};
    root = fs::temp_directory_path() / ("pgcutover_spool_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(root);
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

void be(std::string &s, u64 v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// Begin: final LSN, commit time, xid.
std::string begin(u64 final_lsn, u32 xid) {
  std::string s = "B";
  be(s, final_lsn, 8);
  be(s, 0, 8);
  be(s, xid, 4);
  return s;
}
// Commit: flags, commit LSN, end LSN, commit time.
std::string commit(u64 commit_lsn, u64 end_lsn) {
  std::string s = "C";
  s.push_back(0);
  be(s, commit_lsn, 8);
  be(s, end_lsn, 8);
  be(s, 0, 8);
  return s;
}
// Insert of relation 1, one text column.
std::string insert(const std::string &v) {
  std::string s = "I";
  be(s, 1, 4);
  s.push_back('N');
  be(s, 1, 2);
  s.push_back('t');
  be(s, v.size(), 4);
  return s + v;
}

// One transaction of `rows` inserts committing at `lsn` (end lsn + 8).
void txn(SpoolWriter &w, u64 lsn, int rows, const std::string &tag) {
  w.add(Lsn{lsn - 100}, begin(lsn, static_cast<u32>(lsn)));
  for (int i = 0; i < rows; ++i) w.add(Lsn{lsn - 50}, insert(tag + "-" + std::to_string(i)));
  w.add(Lsn{lsn}, commit(lsn, lsn + 8));
}

// Every inserted value of the spool's segments, in order.
std::vector<std::string> inserted(const fs::path &dir) {
  std::vector<std::string> out;
  logical::Decoder d(1);
  for (auto &seg : list_segments(dir))
    read_segment(seg.path, [&](Lsn, std::span<const char> m) {
      logical::Message msg = d.decode(m);
      if (auto *i = std::get_if<logical::Insert>(&msg)) out.emplace_back(i->row.at(0).bytes);
    });
  return out;
}

SpoolOptions options(const fs::path &dir, i64 bytes) {
  SpoolOptions o;
  o.dir = dir;
  o.segment_bytes = bytes;
  o.segment_age = std::chrono::hours(1);
  return o;
}

TEST(Spool, SegmentsAreCutOnlyAtTransactionEndsAndSetTheDurablePosition) {
  Dir d;
  SpoolWriter w(options(d.root, 400), "slot_a", 1);
  EXPECT_EQ(w.durable(), Lsn{});
  // A transaction far larger than a segment stays whole in one segment.
  w.add(Lsn{900}, begin(1000, 1));
  for (int i = 0; i < 50; ++i) w.add(Lsn{950}, insert("big-" + std::to_string(i)));
  EXPECT_TRUE(w.in_transaction());
  EXPECT_FALSE(w.cut()) << "cut inside a transaction";
  EXPECT_EQ(w.segments_finished(), 0);
  EXPECT_EQ(w.durable(), Lsn{}) << "durable before its commit";
  w.add(Lsn{1000}, commit(1000, 1008));
  EXPECT_EQ(w.segments_finished(), 1) << "a segment past its size is cut at the commit";
  EXPECT_EQ(w.durable(), Lsn{1008});
  // Small transactions share a segment until it is due.
  txn(w, 2000, 1, "s1");
  txn(w, 3000, 1, "s2");
  EXPECT_EQ(w.segments_finished(), 1);
  EXPECT_EQ(w.durable(), Lsn{1008}) << "the open segment's commits are not durable";
  EXPECT_GT(w.open_bytes(), 0);
  EXPECT_TRUE(w.cut());
  EXPECT_EQ(w.durable(), Lsn{3008});
  EXPECT_EQ(w.open_bytes(), 0);

  auto segs = list_segments(d.root);
  ASSERT_EQ(segs.size(), 2u);
  SegmentSummary s0 = read_segment(segs[0].path, [](Lsn, std::span<const char>) {});
  EXPECT_EQ(s0.messages, 52);
  EXPECT_EQ(s0.commits, 1);
  EXPECT_EQ(s0.last_commit_end, Lsn{1008});
  std::vector<std::string> v = inserted(d.root);
  ASSERT_EQ(v.size(), 52u);
  EXPECT_EQ(v.front(), "big-0");
  EXPECT_EQ(v.back(), "s2-0");
}

TEST(Spool, ARestartResumesFromTheLastFinishedSegmentAndLeavesOutWhatIsSentAgain) {
  Dir d;
  {
    SpoolWriter w(options(d.root, 1 << 20), "slot_a", 2);
    txn(w, 1000, 2, "a");
    ASSERT_TRUE(w.cut());
    txn(w, 2000, 2, "b");  // in the open segment when the process dies
    EXPECT_EQ(w.durable(), Lsn{1008});
  }  // the open segment is dropped, as a kill would
  for (auto &e : fs::directory_iterator(d.root))
    EXPECT_EQ(e.path().extension(), ".spool") << "left behind: " << e.path();
  SpoolWriter w(options(d.root, 1 << 20), "slot_a", 2);
  EXPECT_EQ(w.durable(), Lsn{1008}) << "the durable position read back from the segments";
  // The server sends again from an older confirmed position: the transaction
  // the spool holds is left out whole, the lost one is taken again.
  txn(w, 1000, 2, "a");
  txn(w, 2000, 2, "b");
  EXPECT_EQ(w.transactions_skipped(), 1);
  ASSERT_TRUE(w.cut());
  EXPECT_EQ(w.durable(), Lsn{2008});
  EXPECT_EQ(inserted(d.root), (std::vector<std::string>{"a-0", "a-1", "b-0", "b-1"}));
  auto segs = list_segments(d.root);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[1].sequence, 1) << "the restarted spool continues the sequence";
}

// A logical message outside any transaction (transactional = false).
std::string message_outside(u64 end_lsn, const std::string &text) {
  std::string s = "M";
  s.push_back(0);  // flags: not transactional
  be(s, end_lsn, 8);
  s += "test";
  s.push_back(0);
  be(s, text.size(), 4);
  return s + text;
}

TEST(Spool, TheBoundariesOfWhatIsSentAgain) {
  Dir d;
  {
    SpoolWriter w(options(d.root, 1 << 20), "slot_a", 2);
    txn(w, 1000, 1, "a");
    w.add(Lsn{1100}, message_outside(1150, "fence"));
    ASSERT_TRUE(w.cut());
    EXPECT_EQ(w.durable(), Lsn{1150}) << "a message outside a transaction moves the durable position";
  }
  SpoolWriter w(options(d.root, 1 << 20), "slot_a", 2);
  EXPECT_EQ(w.durable(), Lsn{1150}) << "read back from the segment";
  w.add(Lsn{1100}, message_outside(1150, "fence"));  // sent again: left out
  txn(w, 1150, 1, "b");  // its commit starts exactly at the durable position: new, kept
  ASSERT_TRUE(w.cut());
  EXPECT_EQ(w.transactions_skipped(), 0);
  int fences = 0;
  for (auto &seg : list_segments(d.root))
    read_segment(seg.path, [&](Lsn, std::span<const char> m) { fences += m[0] == 'M'; });
  EXPECT_EQ(fences, 1);
  EXPECT_EQ(inserted(d.root), (std::vector<std::string>{"a-0", "b-0"}));
}

// A Relation message: oid, namespace, name, replica identity, one key column.
std::string relation_msg(u32 oid, const std::string &name) {
  std::string s = "R";
  be(s, oid, 4);
  s += "public";
  s.push_back(0);
  s += name;
  s.push_back(0);
  s.push_back('d');
  be(s, 1, 2);
  s.push_back(1);
  s += "id";
  s.push_back(0);
  be(s, 23, 4);
  be(s, static_cast<u64>(-1) & 0xffffffff, 4);
  return s;
}

// Every segment begins with the descriptions sent so far (a walsender sends
// each once per session), across a restart too.
TEST(Spool, EverySegmentBeginsWithTheTablesDescribedSoFar) {
  Dir d;
  {
    SpoolWriter w(options(d.root, 1), "slot_a", 1);
    w.add(Lsn{900}, begin(1000, 1));
    w.add(Lsn{0}, relation_msg(1, "t"));
    w.add(Lsn{950}, insert("x"));
    w.add(Lsn{1000}, commit(1000, 1008));
    txn(w, 2000, 1, "y");  // no Relation: the session sent it already
  }
  {
    SpoolWriter w(options(d.root, 1), "slot_a", 1);  // restarted: reads the descriptions back
    txn(w, 3000, 1, "z");
  }
  auto segs = list_segments(d.root);
  ASSERT_EQ(segs.size(), 3u);
  for (size_t i = 1; i < segs.size(); ++i) {  // the first holds it inside its transaction
    const auto &seg = segs[i];
    std::string first;
    read_segment(seg.path, [&](Lsn, std::span<const char> m) {
      if (first.empty()) first.assign(m.data(), m.size());
    });
    EXPECT_EQ(first, relation_msg(1, "t")) << seg.path;
    logical::Decoder dec(1);
    logical::Message msg = dec.decode({first.data(), first.size()});
    ASSERT_TRUE(std::holds_alternative<logical::Relation>(msg));
    EXPECT_EQ(std::get<logical::Relation>(msg).relname, "t");
  }
}

TEST(Spool, AFolderOfAnotherSlotOrADamagedSegmentIsRefusedByName) {
  Dir d;
  {
    SpoolWriter w(options(d.root, 1), "slot_a", 1);
    txn(w, 1000, 3, "a");
  }
  try {
    SpoolWriter other(options(d.root, 1), "slot_b", 1);
    FAIL() << "a spool of another slot was opened";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::Usage);
    EXPECT_NE(std::string(e.what()).find("slot_a"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(d.root.string()), std::string::npos) << e.what();
  }
  auto segs = list_segments(d.root);
  ASSERT_EQ(segs.size(), 1u);
  {  // one byte flipped in the middle of the segment
    std::fstream f(segs[0].path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    const auto size = static_cast<std::streamoff>(f.tellg());
    f.seekg(size / 2);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x40);
    f.seekp(size / 2);
    f.write(&c, 1);
  }
  try {
    SpoolWriter again(options(d.root, 1), "slot_a", 1);
    FAIL() << "a damaged segment was read";
  } catch (const Error &e) {
    EXPECT_EQ(e.kind, ErrorKind::DataFormat);
    EXPECT_NE(std::string(e.what()).find(segs[0].path.filename().string()), std::string::npos) << e.what();
  }
}

TEST(Spool, AStreamOutOfShapeIsRefused) {
  Dir d;
  SpoolWriter w(options(d.root, 1 << 20), "slot_a", 1);
  EXPECT_THROW(w.add(Lsn{10}, commit(10, 18)), Error) << "a Commit outside a transaction";
  w.add(Lsn{10}, begin(20, 1));
  EXPECT_THROW(w.add(Lsn{11}, begin(30, 2)), Error) << "a Begin inside a transaction";
  EXPECT_THROW(w.add(Lsn{12}, std::string_view("C")), Error) << "a Commit cut short";
}

}  // namespace
}  // namespace pgcutover::follow
