#include "pgcutover/util/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace pgcutover::log {

namespace {
std::mutex sink_mu;
Sink current_sink;
std::atomic<int> current_level{static_cast<int>(Level::Info)};
}  // namespace

const char *to_string(Level level) {
  switch (level) {
    case Level::Error: return "error";
    case Level::Warn: return "warning";
    case Level::Info: return "info";
    case Level::Debug: return "debug";
    case Level::Trace: return "trace";
  }
  return "?";
}

Sink set_sink(Sink sink) {
  std::lock_guard lk(sink_mu);
  Sink old = std::move(current_sink);
  current_sink = std::move(sink);
  return old;
}

void set_level(Level level) { current_level.store(static_cast<int>(level)); }

bool enabled(Level level) { return static_cast<int>(level) <= current_level.load(std::memory_order_relaxed); }

void write(Level level, const std::string &line) {
  std::lock_guard lk(sink_mu);
  if (current_sink) {
    current_sink(level, line);
    return;
  }
  std::fprintf(stderr, "pgcutover: %s: %s\n", to_string(level), line.c_str());
}

}  // namespace pgcutover::log
