#pragma once
// Transaction guard: BEGIN in the constructor, ROLLBACK in the destructor
// unless commit() ran. The destructor never throws.
#include <string_view>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

class Transaction {
 public:
  explicit Transaction(Connection &conn);  // BEGIN
  Transaction(Connection &conn, std::string_view begin_sql);  // begin_sql from sql::server
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;
  ~Transaction();

  void commit();

 private:
  Connection &conn_;
  bool open_ = true;
};

}  // namespace pgcutover::pg
