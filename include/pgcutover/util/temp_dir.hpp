#pragma once
// A private temp folder (mode 0700, from mkdtemp) removed with everything in
// it when the scope ends; for schema archives the jobs hand to pg_restore.
#include <filesystem>

namespace pgcutover::util {

class TempDir {
 public:
  TempDir();  // throws Usage naming the temp folder when it cannot be created
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  ~TempDir();
  const std::filesystem::path &path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace pgcutover::util
