#include "pgcutover/pipeline/conn_pool.hpp"

#include <algorithm>

#include "pgcutover/pg/snapshot.hpp"

namespace pgcutover::pipeline {

ConnPool::ConnPool(Factory factory, int size) : factory_(std::move(factory)) {
  for (int i = 0; i < size; ++i) free_.push(nullptr);
}

ConnPool::Lease ConnPool::acquire() {
  std::unique_ptr<pg::Connection> conn;
  free_.pop(conn);
  if (!conn || conn->broken()) {
    try {
      conn = std::make_unique<pg::Connection>(factory_());
    } catch (...) {
      free_.push(nullptr);
      throw;
    }
  }
  std::lock_guard lk(mu_);
  leased_.emplace_back(conn.get(), conn->canceller());
  return Lease(*this, std::move(conn));
}

void ConnPool::give_back(std::unique_ptr<pg::Connection> conn, pg::Connection *raw) {
  {
    std::lock_guard lk(mu_);
    std::erase_if(leased_, [raw](const auto &l) { return l.first == raw; });
  }
  if (conn && conn->broken()) conn.reset();
  free_.push(std::move(conn));
}

void ConnPool::Lease::renew_snapshot(const std::string &snapshot_id) {
  if (!conn_) return;
  try {
    pg::renew_snapshot(*conn_, snapshot_id);
  } catch (const Error &) {
    discard();
  }
}

ConnPool::Lease::~Lease() {
  if (!pool_) return;
  pool_->give_back(std::move(conn_), raw_);
}

void ConnPool::cancel_all() noexcept {
  std::vector<std::shared_ptr<pg::Canceller>> targets;
  {
    std::lock_guard lk(mu_);
    for (const auto &l : leased_) targets.push_back(l.second);
  }
  for (const auto &c : targets)
    if (c) c->cancel();
}

}  // namespace pgcutover::pipeline
