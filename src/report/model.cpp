#include "pgcutover/report/model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace pgcutover::report {

RunReport::RunReport() : start_(Clock::now()) {}

double RunReport::now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

void RunReport::add_phase(PhaseRecord p) {
  std::lock_guard lk(mu_);
  phases_.push_back(std::move(p));
}

void RunReport::add_range(RangeRecord r) {
  std::lock_guard lk(mu_);
  ranges_.push_back(std::move(r));
}

void RunReport::set_table_meta(const std::string &table, const std::string &strategy, const std::string &format,
                               i64 ranges) {
  std::lock_guard lk(mu_);
  TableRecord t;
  t.table = table;
  t.strategy = strategy;
  t.format = format;
  t.ranges = ranges;
  table_meta_.push_back(std::move(t));
}

void RunReport::set(const std::string &key, nlohmann::json value) {
  std::lock_guard lk(mu_);
  facts_[key] = std::move(value);
}

std::vector<TableRecord> RunReport::tables() const {
  std::lock_guard lk(mu_);
  std::vector<TableRecord> out = table_meta_;
  std::map<std::string, size_t> idx;
  for (size_t i = 0; i < out.size(); ++i) {
    idx[out[i].table] = i;
    out[i].start = -1;
  }
  for (const RangeRecord &r : ranges_) {
    auto it = idx.find(r.table);
    if (it == idx.end()) continue;
    TableRecord &t = out[it->second];
    t.rows += r.rows;
    t.bytes += r.bytes;
    t.start = t.start < 0 ? r.start : std::min(t.start, r.start);
    t.end = std::max(t.end, r.end);
  }
  for (TableRecord &t : out)
    if (t.start < 0) t.start = t.end = 0;
  return out;
}

std::vector<RangeRecord> RunReport::ranges() const {
  std::lock_guard lk(mu_);
  return ranges_;
}

std::vector<PhaseRecord> RunReport::phases() const {
  std::lock_guard lk(mu_);
  return phases_;
}

nlohmann::json RunReport::to_json() const {
  nlohmann::json j;
  {
    std::lock_guard lk(mu_);
    j = facts_;
  }
  double total = now();
  j["elapsed_seconds"] = total;
  i64 rows = 0, bytes = 0;
  nlohmann::json tables = nlohmann::json::array();
  for (const TableRecord &t : this->tables()) {
    rows += t.rows;
    bytes += t.bytes;
    double s = t.seconds();
    tables.push_back({{"table", t.table},
                      {"strategy", t.strategy},
                      {"format", t.format},
                      {"ranges", t.ranges},
                      {"rows", t.rows},
                      {"bytes", t.bytes},
                      {"seconds", s},
                      {"mb_per_s", s > 0 ? static_cast<double>(t.bytes) / 1e6 / s : 0.0}});
  }
  nlohmann::json ranges = nlohmann::json::array();
  for (const RangeRecord &r : this->ranges())
    ranges.push_back({{"table", r.table},
                      {"range", r.range_id},
                      {"bounds", r.bounds},
                      {"rows", r.rows},
                      {"bytes", r.bytes},
                      {"planned_bytes", r.planned_bytes},
                      {"spill_bytes", r.spill_bytes},
                      {"merged", r.merged},
                      {"appended", r.appended},
                      {"start", r.start},
                      {"end", r.end},
                      {"worker", r.worker}});
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseRecord &p : this->phases())
    phases.push_back({{"phase", p.name}, {"start", p.start}, {"end", p.end}, {"seconds", p.end - p.start}});
  j["tables"] = std::move(tables);
  j["ranges"] = std::move(ranges);
  j["phases"] = std::move(phases);
  j["totals"] = {{"rows", rows},
                 {"bytes", bytes},
                 {"seconds", total},
                 {"mb_per_s", total > 0 ? static_cast<double>(bytes) / 1e6 / total : 0.0}};
  return j;
}

std::string RunReport::summary_text() const {
  std::string out;
  auto tabs = tables();
  size_t w = 5;
  for (const TableRecord &t : tabs) w = std::max(w, t.table.size());
  w = std::min<size_t>(w, 60);
  out += fmt::format("{:<{}}  {:>12}  {:>10}  {:>8}  {:>8}  {:>6}  {:<6}  {}\n", "table", w, "rows", "bytes", "seconds",
                     "MB/s", "ranges", "format", "strategy");
  i64 rows = 0, bytes = 0;
  for (const TableRecord &t : tabs) {
    double s = t.seconds();
    rows += t.rows;
    bytes += t.bytes;
    out += fmt::format("{:<{}}  {:>12}  {:>10}  {:>8.2f}  {:>8.1f}  {:>6}  {:<6}  {}\n", t.table, w, t.rows,
                       format_bytes(t.bytes), s, s > 0 ? static_cast<double>(t.bytes) / 1e6 / s : 0.0, t.ranges,
                       t.format, t.strategy);
  }
  double total = now();
  out += fmt::format("{:<{}}  {:>12}  {:>10}  {:>8.2f}  {:>8.1f}\n", "total", w, rows, format_bytes(bytes), total,
                     total > 0 ? static_cast<double>(bytes) / 1e6 / total : 0.0);
  auto ph = phases();
  if (!ph.empty()) {
    out += "phases:";
    for (const PhaseRecord &p : ph) out += fmt::format(" {} {:.2f}s", p.name, p.end - p.start);
    out += "\n";
  }
  return out;
}

PhaseTimer::PhaseTimer(RunReport &report, std::string name) : report_(report) {
  rec_.name = std::move(name);
  rec_.start = report_.now();
}

PhaseTimer::~PhaseTimer() {
  rec_.end = report_.now();
  report_.add_phase(rec_);
}

std::string format_bytes(i64 b) {
  const char *units[] = {"B", "kB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string format_duration(double s) {
  if (s < 0 || s > 1e7) return "?";
  int t = static_cast<int>(s + 0.5);
  if (t >= 3600) return fmt::format("{}h{:02}m", t / 3600, t / 60 % 60);
  if (t >= 60) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}s", t);
}

}  // namespace pgcutover::report
