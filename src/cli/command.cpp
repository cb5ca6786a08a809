#include "pgcutover/cli/command.hpp"

#include <cstdio>

namespace pgcutover::cli {

int print(const views::View &view, const CommonOptions &common, int exit_code) {
  if (common.json) std::printf("%s\n", view.json.dump(2).c_str());
  else if (!common.quiet) std::printf("%s", view.text.c_str());
  return exit_code;
}

bool live_progress(const CommonOptions &common) { return !common.json; }

}  // namespace pgcutover::cli
