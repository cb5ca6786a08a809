#include "pgcutover/util/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "pgcutover/util/error.hpp"

namespace pgcutover::util {

namespace {
std::string lower(std::string s) {
  for (char &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
bool split_number(const std::string &text, double &value, std::string &unit) {
  const char *b = text.c_str();
  char *e = nullptr;
  value = std::strtod(b, &e);
  if (e == b || !std::isfinite(value) || value < 0) return false;
  unit = lower(std::string(e));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  return true;
}
}  // namespace

i64 parse_size(const std::string &text) {
  double v;
  std::string u;
  if (!split_number(text, v, u)) throw_usage("not a size: '" + text + "'", "write e.g. 256MB, 1GiB or 1048576");
  double mult;
  if (u.empty() || u == "b") mult = 1;
  else if (u == "k" || u == "kb") mult = 1e3;
  else if (u == "kib") mult = 1024;
  else if (u == "m" || u == "mb") mult = 1e6;
  else if (u == "mib") mult = 1024.0 * 1024;
  else if (u == "g" || u == "gb") mult = 1e9;
  else if (u == "gib") mult = 1024.0 * 1024 * 1024;
  else if (u == "t" || u == "tb") mult = 1e12;
  else if (u == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else throw_usage("unknown size unit in '" + text + "'", "use B, kB, MB, GB, TB or KiB, MiB, GiB, TiB");
  return static_cast<i64>(v * mult);
}

i64 parse_duration_ms(const std::string &text) {
  double v;
  std::string u;
  if (!split_number(text, v, u)) throw_usage("not a duration: '" + text + "'", "write e.g. 30s, 5min, 2h");
  double mult;
  if (u.empty() || u == "s" || u == "sec") mult = 1000;
  else if (u == "ms") mult = 1;
  else if (u == "m" || u == "min") mult = 60e3;
  else if (u == "h") mult = 3600e3;
  else if (u == "d") mult = 86400e3;
  else throw_usage("unknown duration unit in '" + text + "'", "use ms, s, min, h or d");
  return static_cast<i64>(v * mult);
}

}  // namespace pgcutover::util
