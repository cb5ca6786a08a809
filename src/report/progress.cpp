#include "pgcutover/report/progress.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "pgcutover/util/log.hpp"

namespace pgcutover::report {

Reporter::Reporter(bool live, bool quiet) : live_(live && isatty(STDERR_FILENO)), quiet_(quiet) {
  previous_ = log::set_sink([this](log::Level level, const std::string &line) { on_log(static_cast<int>(level), line); });
}

Reporter::~Reporter() {
  stop_live();
  log::set_sink(std::move(previous_));
}

void Reporter::on_log(int level, const std::string &line) {
  if (quiet_ && level > static_cast<int>(log::Level::Warn)) return;
  std::lock_guard lk(mu_);
  clear_locked();
  std::fprintf(stderr, "pgcutover: %s%s\n",
               level == static_cast<int>(log::Level::Info) ? "" : (std::string(log::to_string(static_cast<log::Level>(level))) + ": ").c_str(),
               line.c_str());
  draw_locked();
}

std::string Reporter::progress_line(const RunReport &r) const {
  const Progress &p = r.progress;
  double t = r.now();
  i64 bytes = p.bytes.load(std::memory_order_relaxed);
  i64 planned_done = p.planned_done.load(std::memory_order_relaxed);
  double rate = t > 0 ? static_cast<double>(bytes) / 1e6 / t : 0;
  // Fraction done: finished ranges by their planned size, and the bytes in
  // flight scaled by the stream-to-disk ratio seen so far (1 before any range
  // finished), so the ETA moves from the first second on.
  i64 bytes_done = p.bytes_done.load(std::memory_order_relaxed);
  double ratio = planned_done > 0 && bytes_done > 0 ? static_cast<double>(bytes_done) / static_cast<double>(planned_done) : 1.0;
  double done = static_cast<double>(planned_done) + static_cast<double>(bytes - bytes_done) / ratio;
  double frac = p.planned_total > 0 ? std::min(1.0, done / static_cast<double>(p.planned_total.load())) : 0;
  std::string eta = frac > 0.001 ? format_duration(t / frac - t) : "?";
  return fmt::format("ranges {}/{}  rows {}  {}  {:.1f} MB/s  ETA {}", p.ranges_done.load(), p.ranges_total.load(),
                     p.rows.load(), format_bytes(bytes), rate, eta);
}

void Reporter::set_status(const std::string &status) {
  std::lock_guard lk(mu_);
  status_ = status;
  draw_locked();
}

void Reporter::draw_locked() {
  if (!live_ || !report_) return;
  shown_ = progress_line(*report_);
  if (!status_.empty()) shown_ += "  | " + status_;
  std::fprintf(stderr, "\r%s\x1b[K", shown_.c_str());
  std::fflush(stderr);
}

void Reporter::clear_locked() {
  if (!live_ || shown_.empty()) return;
  std::fprintf(stderr, "\r\x1b[K");
  shown_.clear();
}

void Reporter::start_live(const RunReport &report) {
  std::lock_guard lk(mu_);
  report_ = &report;
  if (!live_ || thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] {
    std::unique_lock lk(mu_);
    while (!stop_) {
      draw_locked();
      cv_.wait_for(lk, std::chrono::milliseconds(250));
    }
    clear_locked();
  });
}

void Reporter::stop_live() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lk(mu_);
  report_ = nullptr;
}

}  // namespace pgcutover::report
