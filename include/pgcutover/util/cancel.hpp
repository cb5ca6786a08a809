#pragma once
// Cancellation. The signal handler only sets a flag (async-signal-safe); the
// pipeline polls it between chunks and a watcher cancels blocked queries.
// A second signal exits at once: no transaction commits half-done, since the
// server rolls back what a vanished client left open.
namespace pgcutover::cancel {

void install_signal_handlers();  // SIGINT, SIGTERM
bool requested();
int signal_number();             // the first signal received, 0 if none
void request();                  // for tests and internal stops
void throw_if_requested();       // throws Error(Cancelled), except in a cleanup scope

// Restoring what a run changed on the target is part of stopping: while a
// CleanupScope lives on a thread, that thread may connect and run statements
// after the first signal (throw_if_requested does not throw there, and its
// statements are not cancelled with the run's). The second signal still
// exits at once; what was not restored then stays recorded for the next run.
class CleanupScope {
 public:
  CleanupScope();
  ~CleanupScope();
  CleanupScope(const CleanupScope &) = delete;
  CleanupScope &operator=(const CleanupScope &) = delete;
};
bool in_cleanup();  // this thread is in a CleanupScope

// Child processes (pg_dump, pg_restore) stop with the run: both signals are
// forwarded to every registered child as SIGTERM (pg_restore then cancels
// its queries on the server and stops its parallel workers), so no child
// goes on writing to the target after pgcutover stopped. A fixed table the
// handler reads without locks; register before the child can be waited on.
bool register_child(int pid);  // false when the table is full (a warning says so)
void unregister_child(int pid);

// Files the second signal's _exit must not leave behind (this process's
// unloaded spill files: table data). A fixed table of path buffers with an
// atomic state per slot, so the handler can unlink() them without locks or
// allocation. Registering owns a slot until destruction; paths longer than
// the buffer, or more files than slots, are not registered (a warning says so).
class ExitUnlink {
 public:
  ExitUnlink() = default;
  explicit ExitUnlink(const char *path);
  ExitUnlink(ExitUnlink &&o) noexcept : slot_(o.slot_) { o.slot_ = -1; }
  ExitUnlink &operator=(ExitUnlink &&o) noexcept;
  ExitUnlink(const ExitUnlink &) = delete;
  ExitUnlink &operator=(const ExitUnlink &) = delete;
  ~ExitUnlink() { reset(); }
  void reset() noexcept;  // the file is gone or kept on purpose: forget it
  bool registered() const { return slot_ >= 0; }

 private:
  int slot_ = -1;
};

}  // namespace pgcutover::cancel
