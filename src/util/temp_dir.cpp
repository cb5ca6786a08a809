#include "pgcutover/util/temp_dir.hpp"

#include <stdlib.h>

#include <string>

#include "pgcutover/util/error.hpp"

namespace pgcutover::util {

namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "pgcutover-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw_usage("cannot create a temp folder in " + fs::temp_directory_path().string());
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

}  // namespace pgcutover::util
