#include "pgcutover/pg/copy_stream.hpp"

#include <cstdlib>

#include "pgcutover/util/log.hpp"

namespace pgcutover::pg {

namespace {
i64 tag_rows(PGresult *res) {
  const char *s = PQcmdTuples(res);
  return *s ? std::strtoll(s, nullptr, 10) : -1;
}
}  // namespace

CopyOut::CopyOut(Connection &conn, std::string_view copy_sql) : conn_(conn) { conn_.start_copy(copy_sql, true); }

std::optional<std::span<const char>> CopyOut::next() {
  if (finished_) return std::nullopt;
  char *raw = nullptr;
  int n = PQgetCopyData(conn_.raw(), &raw, 0);
  if (n > 0) {
    buf_.reset(raw);
    return std::span<const char>(raw, static_cast<size_t>(n));
  }
  buf_.reset();
  if (n == -1) {
    // End of data: the final result says whether the COPY really succeeded.
    ResultHandle res(PQgetResult(conn_.raw()));
    if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      Error e = conn_.make_error(res.get(), "COPY TO STDOUT failed");
      while (ResultHandle more{PQgetResult(conn_.raw())}) {}
      finished_ = true;
      if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
      throw e;
    }
    server_rows_ = tag_rows(res.get());
    while (ResultHandle more{PQgetResult(conn_.raw())}) {}
    finished_ = true;
    return std::nullopt;
  }
  finished_ = true;
  conn_.mark_broken();
  throw conn_.make_error(nullptr, "reading COPY data failed");
}

CopyOut::~CopyOut() {
  if (finished_ || conn_.broken()) return;
  // Stop the server from sending the rest, then drain what is in flight.
  conn_.cancel();
  char *raw = nullptr;
  int n;
  while ((n = PQgetCopyData(conn_.raw(), &raw, 0)) > 0) PQfreemem(raw);
  if (n == -2) {
    conn_.mark_broken();
    return;
  }
  while (ResultHandle res{PQgetResult(conn_.raw())}) {}
  if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
}

CopyIn::CopyIn(Connection &conn, std::string_view copy_sql) : conn_(conn) { conn_.start_copy(copy_sql, false); }

void CopyIn::put(std::span<const char> bytes) {
  if (PQputCopyData(conn_.raw(), bytes.data(), static_cast<int>(bytes.size())) != 1) {
    open_ = false;
    // The server usually sent an error (e.g. a bad value): read it for the message.
    ResultHandle res(PQgetResult(conn_.raw()));
    Error e = conn_.make_error(res.get(), "sending COPY data failed");
    while (ResultHandle more{PQgetResult(conn_.raw())}) {}
    if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
    throw e;
  }
}

i64 CopyIn::finish() {
  open_ = false;
  if (PQputCopyEnd(conn_.raw(), nullptr) != 1) {
    conn_.mark_broken();
    throw conn_.make_error(nullptr, "ending COPY failed");
  }
  ResultHandle res(PQgetResult(conn_.raw()));
  if (!res || PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
    Error e = conn_.make_error(res.get(), "COPY FROM STDIN failed");
    while (ResultHandle more{PQgetResult(conn_.raw())}) {}
    if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
    throw e;
  }
  i64 rows = tag_rows(res.get());
  while (ResultHandle more{PQgetResult(conn_.raw())}) {}
  return rows;
}

void CopyIn::abort(const char *why) noexcept {
  if (!open_) return;
  open_ = false;
  if (conn_.broken()) return;
  if (PQputCopyEnd(conn_.raw(), why) != 1) {
    conn_.mark_broken();
    return;
  }
  while (ResultHandle res{PQgetResult(conn_.raw())}) {}
  if (PQstatus(conn_.raw()) != CONNECTION_OK) conn_.mark_broken();
}

CopyIn::~CopyIn() { abort("aborted by pgcutover"); }

}  // namespace pgcutover::pg
