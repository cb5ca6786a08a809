#pragma once
// A fixed number of connection slots. acquire() blocks until a slot is free and
// opens its connection lazily; a lease whose connection saw an error is
// discarded (the connection closed, never reused) and the slot reopens on the
// next acquire. The pool bounds how many sessions each server sees.
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include <tbb/concurrent_queue.h>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pipeline {

class ConnPool {
 public:
  using Factory = std::function<pg::Connection()>;
  ConnPool(Factory factory, int size);

  class Lease {
   public:
    Lease(ConnPool &pool, std::unique_ptr<pg::Connection> conn)
        : pool_(&pool), raw_(conn.get()), conn_(std::move(conn)) {}
    Lease(Lease &&o) noexcept : pool_(std::exchange(o.pool_, nullptr)), raw_(o.raw_), conn_(std::move(o.conn_)) {}
    Lease(const Lease &) = delete;
    ~Lease();
    pg::Connection &operator*() { return *conn_; }
    pg::Connection *operator->() { return conn_.get(); }
    void discard() { conn_.reset(); }
    // Between ranges read in an imported snapshot: ends the transaction (and
    // its locks) and starts another in the same snapshot (pg::renew_snapshot).
    // A renewal that fails discards the connection: the next one the pool
    // opens imports the snapshot, or says it is lost.
    void renew_snapshot(const std::string &snapshot_id);

   private:
    ConnPool *pool_;
    pg::Connection *raw_;
    std::unique_ptr<pg::Connection> conn_;
  };

  Lease acquire();
  // Cancels whatever runs on connections currently leased (for Ctrl-C). The
  // requests go out after the pool's lock is released, through cancellers
  // that outlive their connections, so a lease ending meanwhile (even one
  // whose connection was discarded) neither waits for it nor is touched by it.
  void cancel_all() noexcept;

 private:
  Factory factory_;
  tbb::concurrent_bounded_queue<std::unique_ptr<pg::Connection>> free_;
  std::mutex mu_;
  std::vector<std::pair<pg::Connection *, std::shared_ptr<pg::Canceller>>> leased_;
  friend class Lease;
  void give_back(std::unique_ptr<pg::Connection> conn, pg::Connection *raw);
};

}  // namespace pgcutover::pipeline
