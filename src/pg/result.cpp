#include "pgcutover/pg/result.hpp"

#include <charconv>
#include <cstdlib>

#include "pgcutover/util/error.hpp"

namespace pgcutover::pg {

bool Result::is_null(int row, int col) const { return PQgetisnull(handle_.get(), row, col) != 0; }

std::string_view Result::get(int row, int col) const {
  if (is_null(row, col)) return {};
  return {PQgetvalue(handle_.get(), row, col), static_cast<size_t>(PQgetlength(handle_.get(), row, col))};
}

std::optional<std::string> Result::get_opt(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::string(get(row, col));
}

i64 Result::get_i64(int row, int col) const {
  if (is_null(row, col)) throw_internal("unexpected NULL in column " + std::string(PQfname(handle_.get(), col)));
  std::string_view s = get(row, col);
  i64 v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    throw_internal("not an integer in column " + std::string(PQfname(handle_.get(), col)) + ": " + std::string(s));
  return v;
}

double Result::get_double(int row, int col) const {
  if (is_null(row, col)) throw_internal("unexpected NULL in column " + std::string(PQfname(handle_.get(), col)));
  return std::strtod(std::string(get(row, col)).c_str(), nullptr);
}

bool Result::get_bool(int row, int col) const {
  std::string_view s = get(row, col);
  return !s.empty() && s[0] == 't';
}

int Result::column_index(const char *name) const {
  int i = PQfnumber(handle_.get(), name);
  if (i < 0) throw_internal(std::string("result has no column ") + name);
  return i;
}

i64 Result::affected_rows() const {
  const char *s = handle_ ? PQcmdTuples(handle_.get()) : "";
  return *s ? std::strtoll(s, nullptr, 10) : 0;
}

}  // namespace pgcutover::pg
