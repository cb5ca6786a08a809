#pragma once
// Which spill files are this process's. Processes may share one --spill-dir
// (several workers on one job, or unrelated runs): each file is claimed before
// its first byte is written, and only files this process claimed are ever
// written, renamed over or removed by it.
//
// A claim is an flock(LOCK_EX) on the file's inode, taken when the file is
// created and held, through the rename to its final name,
// until the file is loaded and removed, or kept. A process that dies releases
// its claims with its descriptors, so a file nobody holds is a leftover and
// may be replaced. Creating, renaming and replacing happen under a short
// flock on the folder itself, so two processes never race on one name.
// (flock is local to one host: a folder shared over NFS by several hosts is
// not supported.)
#include <filesystem>
#include <system_error>

#include "pgcutover/util/cancel.hpp"

namespace pgcutover::spill {

class FileClaim {
 public:
  FileClaim() = default;
  FileClaim(FileClaim &&o) noexcept;
  FileClaim &operator=(FileClaim &&o) noexcept;
  FileClaim(const FileClaim &) = delete;
  FileClaim &operator=(const FileClaim &) = delete;
  // Releases the claim; the file stays (remove() first to delete it).
  ~FileClaim();

  // Creates path (empty, 0600) claimed by this process; a leftover nobody
  // holds is emptied and reused. Throws Usage naming the file when another running process
  // holds it, DiskFull / Usage when it cannot be created. The file is also
  // registered to be removed by a second signal's _exit (cancel::ExitUnlink).
  static FileClaim create(const std::filesystem::path &path);

  bool held() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::filesystem::path &path() const { return path_; }

  // Renames the claimed file to `to` (the claim follows it), replacing a
  // leftover nobody holds; throws Usage when another running process holds `to`.
  void rename_to(const std::filesystem::path &to);
  // The file is to be kept (--keep-spill): a second signal leaves it.
  void keep_on_hard_exit() { on_exit_.reset(); }
  // Deletes the claimed file and releases the claim; an error is returned, not thrown.
  std::error_code remove() noexcept;

 private:
  void close() noexcept;

  int fd_ = -1;
  std::filesystem::path path_;
  cancel::ExitUnlink on_exit_;
};

}  // namespace pgcutover::spill
