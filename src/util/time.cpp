#include "pgcutover/util/time.hpp"

#include <date/date.h>

#include <sstream>

namespace pgcutover::util {

TimePoint now() { return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()); }

std::string format_iso(TimePoint t) { return date::format("%FT%TZ", t); }

std::optional<TimePoint> parse_iso(const std::string &text) {
  std::string s = text;
  // Both separators and both offset spellings PostgreSQL prints.
  if (s.size() > 10 && s[10] == ' ') s[10] = 'T';
  for (const char *fmt : {"%FT%T%Ez", "%FT%TZ", "%FT%T", "%FT%R%Ez", "%FT%RZ", "%FT%R", "%F"}) {
    std::istringstream in(s);
    TimePoint t;
    in >> date::parse(fmt, t);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof()) return t;
  }
  // "+HH" offsets without minutes, as PostgreSQL prints them.
  if (s.size() > 3 && (s[s.size() - 3] == '+' || s[s.size() - 3] == '-')) return parse_iso(s + ":00");
  return std::nullopt;
}

double seconds_between(TimePoint a, TimePoint b) { return std::chrono::duration<double>(b - a).count(); }

}  // namespace pgcutover::util
