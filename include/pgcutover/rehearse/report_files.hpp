#pragma once
// The rehearsal's report, three views of one JSON document:
//   report.json  every phase, table and range with start, end, rows, bytes
//   report.md    a summary a person reads in a minute
//   report.html  self-contained (no network), an SVG timeline of the phases
//                (one bar each), of ranges per worker, and throughput over time
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace pgcutover::rehearse {

std::string markdown_report(const nlohmann::json &report);
std::string html_report(const nlohmann::json &report);
// Writes the three files into dir (created if needed).
void write_reports(const std::filesystem::path &dir, const nlohmann::json &report);

}  // namespace pgcutover::rehearse
