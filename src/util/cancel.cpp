#include "pgcutover/util/cancel.hpp"

#include <csignal>
#include <unistd.h>

#include <atomic>

#include "pgcutover/util/error.hpp"

namespace pgcutover::cancel {

namespace {
std::atomic<int> first_signal{0};
std::atomic<bool> flag{false};

void on_signal(int sig) {
  if (flag.exchange(true)) {
    // Second signal: leave now. Open transactions die with their connections.
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

bool requested() { return flag.load(std::memory_order_relaxed); }
int signal_number() { return first_signal.load(); }
void request() { flag.store(true); }

void throw_if_requested() {
  if (requested())
    throw Error(ErrorKind::Cancelled, "interrupted", "rerun the same command to finish: ranges already committed are kept");
}

}  // namespace pgcutover::cancel
