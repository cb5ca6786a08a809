#include "pgcutover/merge/strategy.hpp"

#include "pgcutover/util/error.hpp"

namespace pgcutover::merge {

const char *to_string(Strategy s) {
  switch (s) {
    case Strategy::Auto: return "auto";
    case Strategy::Direct: return "direct";
    case Strategy::Merge: return "merge";
    case Strategy::Replace: return "replace";
  }
  return "?";
}

Strategy parse_strategy(const std::string &t) {
  if (t == "auto") return Strategy::Auto;
  if (t == "direct") return Strategy::Direct;
  if (t == "merge") return Strategy::Merge;
  throw_usage("unknown strategy '" + t + "'", "use auto, direct or merge");
}

}  // namespace pgcutover::merge
