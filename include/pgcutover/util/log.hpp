#pragma once
// Log lines go to one sink (the Reporter owns stderr and the progress line).
// Until a sink is installed, lines go straight to stderr.
#include <fmt/format.h>

#include <functional>
#include <string>

namespace pgcutover::log {

enum class Level { Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 };
const char *to_string(Level level);

using Sink = std::function<void(Level, const std::string &)>;
Sink set_sink(Sink sink);      // installs a sink, returns the previous one (nullptr: stderr)
void set_level(Level level);
bool enabled(Level level);
void write(Level level, const std::string &line);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args &&...args) {
  if (enabled(Level::Error)) write(Level::Error, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args &&...args) {
  if (enabled(Level::Warn)) write(Level::Warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args &&...args) {
  if (enabled(Level::Info)) write(Level::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args &&...args) {
  if (enabled(Level::Debug)) write(Level::Debug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace pgcutover::log
