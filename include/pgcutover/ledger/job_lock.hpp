#pragma once
// The job's advisory lock held for a scope: setting a job up and finishing it
// are done by one process at a time; a second process on the same job waits
// here, then finds what the first one did.
#include "pgcutover/ledger/ledger.hpp"

namespace pgcutover::ledger {

class JobLock {
 public:
  JobLock(const Ledger &l, pg::Connection &c) : l_(l), c_(c) { l_.lock(c_); }
  JobLock(const JobLock &) = delete;
  JobLock &operator=(const JobLock &) = delete;
  ~JobLock() {
    try {
      if (!c_.broken()) l_.unlock(c_);
    } catch (...) {
      // The session ends with the process; its advisory lock goes with it.
    }
  }

 private:
  const Ledger &l_;
  pg::Connection &c_;
};

}  // namespace pgcutover::ledger
