#pragma once
// Sizes and durations as users write them: "256MB", "1GiB", "64k", "30s", "5min".
#include <string>

#include "pgcutover/util/types.hpp"

namespace pgcutover::util {

i64 parse_size(const std::string &text);          // bytes; throws Usage
i64 parse_duration_ms(const std::string &text);   // milliseconds; plain numbers are seconds; throws Usage

}  // namespace pgcutover::util
