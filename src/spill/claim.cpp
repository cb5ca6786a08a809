// Spill file claims (see claim.hpp).
#include "pgcutover/spill/claim.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "pgcutover/util/error.hpp"

namespace pgcutover::spill {

namespace fs = std::filesystem;

namespace {

std::string errno_text(int err) { return std::error_code(err, std::generic_category()).message(); }

[[noreturn]] void throw_claim_io(const char *what, const fs::path &path, int err) {
  if (err == ENOSPC || err == EDQUOT)
    throw Error(ErrorKind::DiskFull, fmt::format("cannot {} spill file {}: {}", what, path.string(), errno_text(err)),
                "free space on that file system or point --spill-dir elsewhere");
  throw Error(ErrorKind::Usage, fmt::format("cannot {} spill file {}: {}", what, path.string(), errno_text(err)),
              "point --spill-dir at a writable folder");
}

[[noreturn]] void throw_held(const fs::path &path) {
  throw Error(ErrorKind::Usage,
              fmt::format("spill file {} belongs to another running pgcutover process that shares this --spill-dir; "
                          "this process does not touch it",
                          path.string()),
              "give each run its own --spill-dir, or wait for the other run to end and rerun the same command");
}

int lock_nb(int fd) {
  int r;
  do r = ::flock(fd, LOCK_EX | LOCK_NB);
  while (r != 0 && errno == EINTR);
  return r;
}

// The folder's own flock, held while a name is created, replaced or renamed.
class FolderLock {
 public:
  explicit FolderLock(const fs::path &file) {
    fs::path dir = file.parent_path();
    if (dir.empty()) dir = ".";
    fd_ = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_ < 0) throw_claim_io("open the folder of", file, errno);
    int r;
    do r = ::flock(fd_, LOCK_EX);
    while (r != 0 && errno == EINTR);
    if (r != 0) {
      int err = errno;
      ::close(fd_);
      throw_claim_io("lock the folder of", file, err);
    }
  }
  FolderLock(const FolderLock &) = delete;
  FolderLock &operator=(const FolderLock &) = delete;
  ~FolderLock() { ::close(fd_); }  // closing releases the flock

 private:
  int fd_ = -1;
};

// Under the folder lock: throws when `path` exists and a running process
// holds it; a file nobody holds is a leftover of a process that is gone.
void check_not_held(const fs::path &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return;
    throw_claim_io("open", path, errno);
  }
  bool held = lock_nb(fd) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  if (held) throw_held(path);
}

}  // namespace

FileClaim::FileClaim(FileClaim &&o) noexcept
    : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)), on_exit_(std::move(o.on_exit_)) {}

FileClaim &FileClaim::operator=(FileClaim &&o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    path_ = std::move(o.path_);
    on_exit_ = std::move(o.on_exit_);
  }
  return *this;
}

FileClaim::~FileClaim() { close(); }

void FileClaim::close() noexcept {
  on_exit_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

FileClaim FileClaim::create(const fs::path &path) {
  FolderLock folder(path);
  // Not O_TRUNC: the file may be another process's until the flock says not.
  int fd;
  do fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  while (fd < 0 && errno == EINTR);
  if (fd < 0) throw_claim_io("create", path, errno);
  if (lock_nb(fd) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) throw_held(path);
    throw_claim_io("claim", path, err);
  }
  FileClaim c;
  c.fd_ = fd;
  c.path_ = path;
  c.on_exit_ = cancel::ExitUnlink(path.c_str());
  // A leftover of a process that is gone is emptied and reused.
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw_claim_io("stat", path, errno);
  if (S_ISREG(st.st_mode) && st.st_size > 0 && ::ftruncate(fd, 0) != 0) throw_claim_io("truncate", path, errno);
  // Table data: readable by its owner only, also when an older file of this name had wider rights.
  if (::fchmod(fd, 0600) != 0) throw_claim_io("restrict the rights of", path, errno);
  return c;
}

void FileClaim::rename_to(const fs::path &to) {
  if (fd_ < 0) throw_internal("FileClaim::rename_to without a claim: " + to.string());
  FolderLock folder(to);
  check_not_held(to);
  cancel::ExitUnlink next(to.c_str());  // registered before the name holds the file
  if (::rename(path_.c_str(), to.c_str()) != 0) throw_claim_io("rename into place", to, errno);
  if (on_exit_.registered()) on_exit_ = std::move(next);
  path_ = to;
}

std::error_code FileClaim::remove() noexcept {
  std::error_code ec;
  if (fd_ < 0) return ec;
  // Removed while still claimed, under the folder lock: nobody else can have
  // opened the name meanwhile to claim it next.
  try {
    FolderLock folder(path_);
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) ec = std::error_code(errno, std::generic_category());
  } catch (const Error &) {
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) ec = std::error_code(errno, std::generic_category());
  }
  close();
  return ec;
}

}  // namespace pgcutover::spill
