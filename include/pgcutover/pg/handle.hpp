#pragma once
// Ownership of libpq handles, nothing else. Behaviour lives in connection.hpp.
#include <libpq-fe.h>

#include <memory>

namespace pgcutover::pg {

struct ConnDeleter {
  void operator()(PGconn *c) const noexcept { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult *r) const noexcept { PQclear(r); }
};
struct FreememDeleter {
  void operator()(void *p) const noexcept { PQfreemem(p); }
};
struct CancelDeleter {
  void operator()(PGcancel *c) const noexcept { PQfreeCancel(c); }
};

using ConnHandle = std::unique_ptr<PGconn, ConnDeleter>;
using ResultHandle = std::unique_ptr<PGresult, ResultDeleter>;
using CopyBuffer = std::unique_ptr<char, FreememDeleter>;  // what PQgetCopyData hands out
using CancelHandle = std::unique_ptr<PGcancel, CancelDeleter>;

}  // namespace pgcutover::pg
