#include "pgcutover/util/cancel.hpp"

#include <signal.h>

#include <csignal>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::cancel {

namespace {
std::atomic<int> first_signal{0};
std::atomic<bool> flag{false};

// The ExitUnlink table. A slot's state: FREE, FILLING (its owner copies the
// path in), READY (the handler may unlink it), UNLINKING (the handler took it).
enum SlotState : int { FREE = 0, FILLING = 1, READY = 2, UNLINKING = 3 };
constexpr int EXIT_UNLINK_SLOTS = 512;
constexpr size_t EXIT_UNLINK_PATH_BYTES = 4096;
struct Slot {
  std::atomic<int> state{FREE};
  char path[EXIT_UNLINK_PATH_BYTES];
};
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free slot states");
Slot slots[EXIT_UNLINK_SLOTS];

void unlink_registered() {
  for (Slot &s : slots) {
    int expected = READY;
    if (s.state.compare_exchange_strong(expected, UNLINKING)) ::unlink(s.path);
  }
}

constexpr int CHILD_SLOTS = 64;
std::atomic<int> child_pids[CHILD_SLOTS];
static_assert(std::atomic<int>::is_always_lock_free, "the signal handler reads child pids");

void stop_children() {
  for (std::atomic<int> &c : child_pids) {
    int pid = c.load();
    if (pid > 0) ::kill(pid, SIGTERM);
  }
}

void on_signal(int sig) {
  stop_children();  // kill() is async-signal-safe
  if (flag.exchange(true)) {
    // Second signal: leave now. Open transactions die with their connections;
    // this process's unloaded spill files go with it (unlink is async-signal-safe).
    unlink_registered();
    // A writer thread that created its file a moment ago may be registering
    // it just now (the other threads run on): look once more, 50 ms later.
    timespec pause{0, 50 * 1000 * 1000};
    (void)nanosleep(&pause, nullptr);  // async-signal-safe
    unlink_registered();
    const char msg[] = "\npgcutover: second signal, exiting at once; open transactions are rolled back by the servers\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(128 + sig);
  }
  first_signal.store(sig);
}
}  // namespace

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool register_child(int pid) {
  for (std::atomic<int> &c : child_pids) {
    int expected = 0;
    if (c.compare_exchange_strong(expected, pid)) {
      // A signal that came before the child was listed here: stop it now.
      if (requested()) ::kill(pid, SIGTERM);
      return true;
    }
  }
  log::warn("more than {} child processes at once: pid {} would not stop with a signal to pgcutover", CHILD_SLOTS, pid);
  return false;
}

void unregister_child(int pid) {
  for (std::atomic<int> &c : child_pids) {
    int expected = pid;
    if (c.compare_exchange_strong(expected, 0)) return;
  }
}

bool requested() { return flag.load(std::memory_order_relaxed); }
int signal_number() { return first_signal.load(); }
void request() { flag.store(true); }

ExitUnlink::ExitUnlink(const char *path) {
  size_t n = std::strlen(path);
  if (n >= EXIT_UNLINK_PATH_BYTES) {
    log::warn("the path {} is too long to be removed on a second signal", path);
    return;
  }
  for (int i = 0; i < EXIT_UNLINK_SLOTS; ++i) {
    int expected = FREE;
    if (!slots[i].state.compare_exchange_strong(expected, FILLING)) continue;
    std::memcpy(slots[i].path, path, n + 1);
    slots[i].state.store(READY);
    slot_ = i;
    return;
  }
  log::warn("more than {} files to remove on a second signal: {} would stay", EXIT_UNLINK_SLOTS, path);
}

ExitUnlink &ExitUnlink::operator=(ExitUnlink &&o) noexcept {
  if (this != &o) {
    reset();
    slot_ = o.slot_;
    o.slot_ = -1;
  }
  return *this;
}

void ExitUnlink::reset() noexcept {
  if (slot_ < 0) return;
  int expected = READY;
  // When the handler holds it (UNLINKING), the process is ending: leave it.
  slots[slot_].state.compare_exchange_strong(expected, FREE);
  slot_ = -1;
}

namespace {
thread_local int cleanup_depth = 0;
}  // namespace

CleanupScope::CleanupScope() { ++cleanup_depth; }
CleanupScope::~CleanupScope() { --cleanup_depth; }
bool in_cleanup() { return cleanup_depth > 0; }

void throw_if_requested() {
  if (requested() && cleanup_depth == 0)
    throw Error(ErrorKind::Cancelled, "interrupted", "rerun the same command to finish: ranges already committed are kept");
}

}  // namespace pgcutover::cancel
