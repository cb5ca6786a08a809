#pragma once
// Points in time as the tool shows and reads them: ISO 8601 in UTC with
// microseconds ("2026-11-24T13:22:26.774815Z"), through std::chrono and the
// date library (no hand-written calendar code).
#include <chrono>
#include <optional>
#include <string>

namespace pgcutover::util {

using TimePoint = std::chrono::sys_time<std::chrono::microseconds>;

TimePoint now();
std::string format_iso(TimePoint t);
// Reads "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS[.ffffff]]" with a 'T' or a space,
// and an optional "Z" or "+HH[:MM]" offset (none means UTC). nullopt if it is
// none of those.
std::optional<TimePoint> parse_iso(const std::string &text);
// Seconds between two points (b - a).
double seconds_between(TimePoint a, TimePoint b);

}  // namespace pgcutover::util
