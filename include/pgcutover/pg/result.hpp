#pragma once
// A query result: move-only owner of a PGresult with NULL-aware typed getters.
#include <optional>
#include <string>
#include <string_view>

#include "pgcutover/pg/handle.hpp"
#include "pgcutover/util/types.hpp"

namespace pgcutover::pg {

class Result {
 public:
  Result() = default;
  explicit Result(ResultHandle h) : handle_(std::move(h)) {}

  int rows() const { return handle_ ? PQntuples(handle_.get()) : 0; }
  int columns() const { return handle_ ? PQnfields(handle_.get()) : 0; }
  bool is_null(int row, int col) const;
  std::string_view get(int row, int col) const;               // "" for NULL
  std::optional<std::string> get_opt(int row, int col) const;  // nullopt for NULL
  i64 get_i64(int row, int col) const;                         // throws on NULL or bad text
  double get_double(int row, int col) const;
  bool get_bool(int row, int col) const;                       // 't' / 'f'
  int column_index(const char *name) const;                   // throws if absent
  i64 affected_rows() const;                                   // PQcmdTuples, 0 if none

 private:
  ResultHandle handle_;
};

}  // namespace pgcutover::pg
