#pragma once
// COPY streams on a Connection.
//
// CopyOut reads COPY ... TO STDOUT data message by message. CopyIn writes
// COPY ... FROM STDIN data. Both leave the connection usable when destroyed
// early: CopyOut cancels the query and drains it; CopyIn ends the COPY with an
// error message, which makes the server fail it (and the surrounding
// transaction roll back).
#include <optional>
#include <span>
#include <string_view>

#include "pgcutover/pg/connection.hpp"

namespace pgcutover::pg {

class CopyOut {
 public:
  CopyOut(Connection &conn, std::string_view copy_sql);
  CopyOut(const CopyOut &) = delete;
  CopyOut &operator=(const CopyOut &) = delete;
  ~CopyOut();

  // Next data message (valid until the next call), or nullopt once the server
  // ended the COPY successfully. Throws Error on any failure.
  std::optional<std::span<const char>> next();
  // Rows the server reports for the finished COPY (its command tag).
  i64 server_rows() const { return server_rows_; }
  bool finished() const { return finished_; }

 private:
  Connection &conn_;
  CopyBuffer buf_;
  bool finished_ = false;
  i64 server_rows_ = -1;
};

class CopyIn {
 public:
  CopyIn(Connection &conn, std::string_view copy_sql);
  CopyIn(const CopyIn &) = delete;
  CopyIn &operator=(const CopyIn &) = delete;
  ~CopyIn();

  void put(std::span<const char> bytes);
  // Ends the COPY successfully; returns the rows the server stored.
  i64 finish();
  // Ends the COPY with an error so the server discards what it received.
  void abort(const char *why) noexcept;

 private:
  Connection &conn_;
  bool open_ = true;
};

}  // namespace pgcutover::pg
