#pragma once
// The one report model. Phases, tables and ranges are recorded here as they
// finish; the summary table, --json and later reports are views of it and
// measure nothing on their own.
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "pgcutover/util/types.hpp"

namespace pgcutover::report {

using Clock = std::chrono::steady_clock;

struct RangeRecord {
  std::string table;
  i64 range_id = 0;
  std::string bounds;     // "[lower, upper)"
  i64 rows = 0;
  i64 bytes = 0;          // COPY stream bytes
  i64 planned_bytes = 0;
  i64 spill_bytes = 0;    // compressed bytes written to the spill file, 0 if none
  i64 merged = -1;        // rows the merge inserted or changed (-1: direct COPY)
  bool appended = false;  // a merge's new keys, written with a plain COPY (no stage)
  double start = 0;       // seconds since the run started
  double end = 0;
  int worker = 0;
};

struct TableRecord {
  std::string table;
  std::string strategy;
  std::string format;
  i64 ranges = 0;
  i64 rows = 0;
  i64 bytes = 0;
  double start = 0;
  double end = 0;
  double seconds() const { return end - start; }
};

struct PhaseRecord {
  std::string name;
  double start = 0;
  double end = 0;
};

// Live counters, updated by the pipeline with relaxed atomics and read by the
// progress line.
struct Progress {
  std::atomic<i64> rows{0};
  std::atomic<i64> bytes{0};
  std::atomic<i64> ranges_done{0};
  std::atomic<i64> planned_done{0};  // planned bytes of finished ranges
  std::atomic<i64> bytes_done{0};    // stream bytes of finished ranges
  std::atomic<i64> ranges_total{0};
  std::atomic<i64> planned_total{0};
};

class RunReport {
 public:
  RunReport();
  double now() const;  // seconds since start

  void add_phase(PhaseRecord p);
  void add_range(RangeRecord r);
  void set_table_meta(const std::string &table, const std::string &strategy, const std::string &format, i64 ranges);
  void set(const std::string &key, nlohmann::json value);  // run-level facts (snapshot, endpoints ...)

  std::vector<TableRecord> tables() const;   // aggregated from ranges
  std::vector<RangeRecord> ranges() const;
  std::vector<PhaseRecord> phases() const;
  nlohmann::json to_json() const;
  std::string summary_text() const;

  Progress progress;

 private:
  Clock::time_point start_;
  mutable std::mutex mu_;
  std::vector<PhaseRecord> phases_;
  std::vector<RangeRecord> ranges_;
  std::vector<TableRecord> table_meta_;
  nlohmann::json facts_ = nlohmann::json::object();
};

// RAII phase timer: records [start, end) into the report under `name`.
class PhaseTimer {
 public:
  PhaseTimer(RunReport &report, std::string name);
  ~PhaseTimer();

 private:
  RunReport &report_;
  PhaseRecord rec_;
};

std::string format_bytes(i64 bytes);
std::string format_duration(double seconds);

}  // namespace pgcutover::report
