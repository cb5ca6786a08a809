// The rehearsal report for 10,000 ranges: how long writing report.json, .md
// and .html takes (target: under a second).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "pgcutover/rehearse/report_files.hpp"

namespace {

nlohmann::json big_report(int ranges) {
  nlohmann::json j;
  j["phases"] = nlohmann::json::array();
  const char *names[] = {"schema_drift", "plan_changes", "sync_changes", "detect_deletes", "reset_sequences", "verify", "analyze", "user_checks"};
  double t = 0;
  for (const char *n : names) {
    j["phases"].push_back({{"phase", n}, {"start", t}, {"end", t + 10}, {"seconds", 10.0}});
    t += 10;
  }
  j["ranges"] = nlohmann::json::array();
  for (int i = 0; i < ranges; ++i)
    j["ranges"].push_back({{"table", "public.t" + std::to_string(i % 50)}, {"range", i}, {"bounds", "[1, 2)"}, {"rows", 1000},
                           {"bytes", 1 << 20}, {"start", 20.0 + i * 0.001}, {"end", 20.5 + i * 0.001}, {"worker", i % 4}});
  j["verdict"] = {{"total_seconds", t}, {"budget_seconds", 7200.0}, {"safety", 0.8}, {"margin_seconds", 5000.0}, {"fits", true}};
  j["sync"] = {{"tables", nlohmann::json::array()}};
  j["verify_ok"] = true;
  j["checks"] = nlohmann::json::array();
  j["checks_passed"] = 0;
  j["projection"] = nlohmann::json::array({{{"after", "1h"}, {"seconds", 100.0}}});
  return j;
}

void BM_Report_Write10kRanges(benchmark::State &state) {
  nlohmann::json j = big_report(10000);
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "pgcutover-report-bench";
  for (auto _ : state) pgcutover::rehearse::write_reports(dir, j);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Report_Write10kRanges)->Unit(benchmark::kMillisecond);

}  // namespace
