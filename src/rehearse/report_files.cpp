#include "pgcutover/rehearse/report_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "pgcutover/util/error.hpp"

namespace pgcutover::rehearse {

namespace {

std::string esc(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string duration(double s) {
  if (s >= 3600) return fmt::format("{}h{:02}m", static_cast<int>(s / 3600), static_cast<int>(s / 60) % 60);
  if (s >= 60) return fmt::format("{}m{:02}s", static_cast<int>(s / 60), static_cast<int>(s) % 60);
  return fmt::format("{:.1f}s", s);
}

// The failure's details, or nullptr when the rehearsal ran through.
const nlohmann::json *failure_of(const nlohmann::json &r) {
  auto f = r.find("failure_detail");
  return f != r.end() && f->is_object() ? &*f : nullptr;
}

const char *COLORS[] = {"#4a7bd0", "#e08a3c", "#4caf7a", "#b25bc7", "#d64f4f", "#3cb4c4", "#9a8f3a", "#6d6d6d"};

}  // namespace

std::string markdown_report(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  const nlohmann::json *failure = failure_of(r);
  std::string out = fmt::format("# Cutover rehearsal: {}\n\n", v["fits"].get<bool>() ? "fits the budget"
                                                               : failure ? "FAILED in " + failure->value("phase", "?")
                                                                         : std::string("OVER BUDGET"));
  if (failure) {
    out += fmt::format("## Failure\n\n- phase: **{}**\n", failure->value("phase", "?"));
    if (!failure->value("table", "").empty()) out += fmt::format("- table: {}\n", failure->value("table", ""));
    out += fmt::format("- message: {}\n", failure->value("message", ""));
    if (!failure->value("sqlstate", "").empty()) out += fmt::format("- SQLSTATE: {}\n", failure->value("sqlstate", ""));
    if (!failure->value("hint", "").empty()) out += fmt::format("- what to do: {}\n", failure->value("hint", ""));
    out += "\n";
  }
  out += fmt::format("- total **{}** against a budget of **{}** (safety {:.0f}%): margin {}\n", duration(v["total_seconds"]),
                     duration(v["budget_seconds"]), v["safety"].get<double>() * 100, duration(v["margin_seconds"]));
  out += fmt::format("- source {}, target {}\n", r.value("source", "?"), r.value("target", "?"));
  out += fmt::format("- verify: {}; user checks: {} passed of {}\n", r["verify_ok"].get<bool>() ? "target equals source" : "DIFFERENCES",
                     r["checks_passed"].get<int>(), r["checks"].size());
  if (r.contains("verify") && r["verify"].contains("sequences_as_of"))
    out += fmt::format("- sequences compared with {} (sequences are not transactional; later values belong to the next "
                       "sync)\n",
                       r["verify"]["sequences_as_of"].get<std::string>());
  out += "\n";
  out += "## Phases\n\n| phase | seconds | share |\n|---|---:|---:|\n";
  double total = std::max(1e-9, v["total_seconds"].get<double>());
  std::string slowest;
  double slowest_s = -1;
  for (const auto &p : r["phases"]) {
    double s = p["seconds"];
    if (s > slowest_s) slowest_s = s, slowest = p["phase"];
    out += fmt::format("| {} | {:.2f} | {:.0f}% |\n", p["phase"].get<std::string>(), s, s / total * 100);
  }
  out += fmt::format("\nThe longest phase is **{}** ({:.0f}% of the total).\n\n", slowest, slowest_s / total * 100);
  out += "## Tables (sync)\n\n| table | method | rows read | rows written | deleted | changes/h |\n"
         "|---|---|---:|---:|---:|---:|\n";
  for (const auto &t : r["sync"]["tables"]) {
    auto rate = t.find("changes_per_hour");
    std::string per_hour = rate != t.end() && rate->is_number() ? fmt::format("{:.0f}", rate->get<double>()) : "-";
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", t["table"].get<std::string>(), t["method"].get<std::string>(),
                       t["rows_read"].dump(), t["rows_written"].dump(), t["deleted"].dump(), per_hour);
  }
  out += "\n## If the final sync ran later\n\nEstimated final-sync time after a period without syncing, from the rows "
         "changed per table since the last sync and the measured merge throughput:\n\n| after | estimated |\n|---|---:|\n";
  for (const auto &p : r["projection"]) out += fmt::format("| {} | {} |\n", p["after"].get<std::string>(), duration(p["seconds"]));
  if (!r["checks"].empty()) {
    out += "\n## User checks\n\n";
    for (const auto &c : r["checks"])
      out += fmt::format("- {} **{}** ({:.2f}s)\n", c["ok"].get<bool>() ? "passed" : "FAILED", c["name"].get<std::string>(),
                         c["seconds"].get<double>());
  }
  return out;
}

std::string html_report(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  double total = std::max(1e-6, v["total_seconds"].get<double>());
  const int W = 900, left = 170;
  auto x = [&](double t) { return left + t / total * W; };
  std::string svg;
  // Phases: one bar each.
  const auto &phases = r["phases"];
  int h = 30 + 24 * static_cast<int>(phases.size());
  svg += fmt::format("<svg id=\"phases\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-size=\"12\">\n", left + W + 60, h);
  int y = 10, i = 0;
  for (const auto &p : phases) {
    double s = p["start"], e = p["end"];
    svg += fmt::format("<text x=\"4\" y=\"{}\">{}</text><rect class=\"phase-bar\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" "
                       "height=\"16\" fill=\"{}\"><title>{}: {:.2f}s</title></rect><text x=\"{:.1f}\" y=\"{}\">{:.2f}s</text>\n",
                       y + 13, esc(p["phase"]), x(s), y, std::max(1.0, x(e) - x(s)), COLORS[i % 8], esc(p["phase"]), e - s,
                       x(e) + 4, y + 13, e - s);
    y += 24;
    ++i;
  }
  svg += "</svg>\n";
  // Ranges per worker.
  std::map<int, int> lanes;
  for (const auto &rg : r["ranges"]) lanes.emplace(rg["worker"].get<int>(), 0);
  int lane = 0;
  for (auto &[w, l] : lanes) l = lane++;
  std::string rsvg = fmt::format("<svg id=\"ranges\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-size=\"12\">\n",
                                 left + W + 60, 20 + 22 * std::max(1, lane));
  for (auto &[w, l] : lanes) rsvg += fmt::format("<text x=\"4\" y=\"{}\">worker {}</text>\n", 22 + 22 * l, w);
  for (const auto &rg : r["ranges"]) {
    double s = rg["start"], e = rg["end"];
    rsvg += fmt::format("<rect class=\"range-bar\" x=\"{:.1f}\" y=\"{}\" width=\"{:.1f}\" height=\"16\" fill=\"#4a7bd0\" "
                        "stroke=\"#fff\"><title>{} range {}: {} rows, {} bytes, {:.2f}s</title></rect>\n",
                        x(s), 8 + 22 * lanes[rg["worker"].get<int>()], std::max(1.0, x(e) - x(s)), esc(rg["table"]),
                        rg["range"].dump(), rg["rows"].dump(), rg["bytes"].dump(), e - s);
  }
  rsvg += "</svg>\n";
  // Throughput over time: bytes of ranges spread over their duration, in 40 buckets.
  const int B = 40;
  std::vector<double> mb(B, 0);
  for (const auto &rg : r["ranges"]) {
    double s = rg["start"], e = rg["end"], bytes = rg["bytes"];
    double d = std::max(1e-6, e - s);
    for (int b = 0; b < B; ++b) {
      double bs = total * b / B, be = total * (b + 1) / B;
      double overlap = std::max(0.0, std::min(e, be) - std::max(s, bs));
      mb[b] += bytes * overlap / d / 1e6 / (total / B);
    }
  }
  double top = std::max(1.0, *std::max_element(mb.begin(), mb.end()));
  std::string pts;
  for (int b = 0; b < B; ++b) pts += fmt::format("{:.1f},{:.1f} ", x(total * (b + 0.5) / B), 130 - mb[b] / top * 110);
  std::string tsvg = fmt::format(
      "<svg id=\"throughput\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"150\" font-size=\"12\">\n"
      "<text x=\"4\" y=\"20\">MB/s (max {:.1f})</text><polyline fill=\"none\" stroke=\"#e08a3c\" stroke-width=\"2\" points=\"{}\"/>\n"
      "<line x1=\"{}\" x2=\"{}\" y1=\"130\" y2=\"130\" stroke=\"#999\"/></svg>\n",
      left + W + 60, top, pts, left, left + W);

  std::string html = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pgcutover rehearsal</title>\n"
                     "<style>body{font-family:sans-serif;margin:24px;color:#222} .ok{color:#2a7d3c} .bad{color:#b00}"
                     " table{border-collapse:collapse} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                     " td:first-child,th:first-child{text-align:left}</style></head><body>\n";
  const nlohmann::json *failure = failure_of(r);
  html += fmt::format("<h1 class=\"{}\">Cutover rehearsal: {}</h1>\n", v["fits"].get<bool>() ? "ok" : "bad",
                      v["fits"].get<bool>() ? "fits the budget"
                      : failure             ? "failed in " + esc(failure->value("phase", "?"))
                                            : std::string("over budget"));
  if (failure) {
    html += "<h2 class=\"bad\">Failure</h2>\n<table id=\"failure\">\n";
    for (const char *k : {"phase", "table", "message", "sqlstate", "hint"})
      if (!failure->value(k, "").empty())
        html += fmt::format("<tr><th>{}</th><td style=\"text-align:left\">{}</td></tr>\n",
                            std::string(k) == "hint" ? "what to do" : k, esc(failure->value(k, "")));
    html += "</table>\n";
  }
  html += fmt::format("<p>Total <b>{}</b> against a budget of <b>{}</b> (safety {:.0f}%), margin {}. Verify: {}. "
                      "User checks: {} of {} passed.</p>\n",
                      duration(total), duration(v["budget_seconds"]), v["safety"].get<double>() * 100,
                      duration(v["margin_seconds"]), r["verify_ok"].get<bool>() ? "target equals source" : "differences",
                      r["checks_passed"].get<int>(), r["checks"].size());
  if (r.contains("verify") && r["verify"].contains("sequences_as_of"))
    html += fmt::format("<p>Sequences compared with {} (sequences are not transactional; later values belong to the "
                        "next sync).</p>\n",
                        esc(r["verify"]["sequences_as_of"]));
  html += "<h2>Phases</h2>\n" + svg + "<h2>Ranges per worker</h2>\n" + rsvg + "<h2>Throughput over time</h2>\n" + tsvg;
  html += "<h2>If the final sync ran later</h2><table><tr><th>after</th><th>estimated final sync</th></tr>\n";
  for (const auto &p : r["projection"])
    html += fmt::format("<tr><td>{}</td><td>{}</td></tr>\n", esc(p["after"]), duration(p["seconds"]));
  html += "</table>\n</body></html>\n";
  return html;
}

void write_reports(const std::filesystem::path &dir, const nlohmann::json &report) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw_usage("cannot create the report folder " + dir.string() + ": " + ec.message());
  auto write = [&](const char *name, const std::string &text) {
    std::ofstream f(dir / name);
    f << text;
    if (!f) throw_usage("cannot write " + (dir / name).string());
  };
  write("report.json", report.dump(2) + "\n");
  write("report.md", markdown_report(report));
  write("report.html", html_report(report));
}

}  // namespace pgcutover::rehearse
