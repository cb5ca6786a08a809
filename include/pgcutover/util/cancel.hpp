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
void throw_if_requested();       // throws Error(Cancelled)

}  // namespace pgcutover::cancel
