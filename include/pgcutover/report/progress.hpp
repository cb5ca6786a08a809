#pragma once
// The Reporter owns stderr: log lines and, on a terminal, a live progress line
// redrawn about four times a second by its own thread. A log line clears the
// progress line, prints, and the line is redrawn. With --json or a stderr that
// is not a terminal there is no live line.
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "pgcutover/report/model.hpp"
#include "pgcutover/util/log.hpp"

namespace pgcutover::report {

class Reporter {
 public:
  Reporter(bool live, bool quiet);
  Reporter(const Reporter &) = delete;
  Reporter &operator=(const Reporter &) = delete;
  ~Reporter();

  // Starts drawing `progress` (ranges, rows, bytes, MB/s, ETA) until stop_live().
  void start_live(const RunReport &report);
  void stop_live();
  std::string progress_line(const RunReport &report) const;
  // What the run waits for now (a lock, see pg/lock_watch.hpp), shown after
  // the live line's counts; "" when nothing. Callable from any thread.
  void set_status(const std::string &status);

 private:
  void on_log(int level, const std::string &line);
  void draw_locked();
  void clear_locked();

  bool live_;
  bool quiet_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  const RunReport *report_ = nullptr;
  std::string shown_;
  std::string status_;
  log::Sink previous_;  // restored on destruction (a command run inside another)
};

// The live line for a scope: started on construction, stopped on the way
// out, also when the phase throws.
class LiveProgress {
 public:
  LiveProgress(Reporter &reporter, const RunReport &report) : reporter_(reporter) { reporter_.start_live(report); }
  LiveProgress(const LiveProgress &) = delete;
  LiveProgress &operator=(const LiveProgress &) = delete;
  ~LiveProgress() { reporter_.stop_live(); }

 private:
  Reporter &reporter_;
};

}  // namespace pgcutover::report
