#include "pgcutover/rehearse/report_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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

// A JSON number or "-" (null or absent).
std::string num(const nlohmann::json &t, const char *key, const char *f = "{:.0f}") {
  auto it = t.find(key);
  return it != t.end() && it->is_number() ? fmt::format(fmt::runtime(f), it->get<double>()) : "-";
}

std::string count(const nlohmann::json &t, const char *key) {
  auto it = t.find(key);
  return it != t.end() && it->is_number() ? it->dump() : "-";
}

// merge cost per row, in milliseconds
std::string ms_per_row(const nlohmann::json &t) {
  auto it = t.find("merge_seconds_per_row");
  return it != t.end() && it->is_number() ? fmt::format("{:.3f}", it->get<double>() * 1000) : "-";
}

const nlohmann::json &arr(const nlohmann::json &r, const char *key) {
  static const nlohmann::json empty = nlohmann::json::array();
  auto it = r.find(key);
  return it != r.end() && it->is_array() ? *it : empty;
}

std::string verdict_word(const nlohmann::json &v) { return v.value("go", false) ? "GO" : "NO-GO"; }

std::string latest_text(const nlohmann::json &r) {
  auto it = r.find("latest_last_sync");
  if (it == r.end() || !it->is_object()) return "no projection (the sync did not finish)";
  const nlohmann::json &l = *it;
  double limit = l.value("limit_seconds", 0.0);
  if (!l["hours"].is_number())
    return fmt::format("none ({}; budget x safety {})", l.value("reason", ""), duration(limit));
  double h = l["hours"].get<double>();
  std::string when = h >= 1 ? fmt::format("{:.1f} h", h) : duration(h * 3600);
  return fmt::format("{} after the sync's snapshot, at {} UTC (then the final sync reaches budget x safety, {}){}", when,
                     l["at"].is_string() ? l["at"].get<std::string>() : "?", duration(limit),
                     l.value("reason", "").empty() ? "" : "; " + l.value("reason", ""));
}

const char *COLORS[] = {"#4a7bd0", "#e08a3c", "#4caf7a", "#b25bc7", "#d64f4f", "#3cb4c4", "#9a8f3a", "#6d6d6d"};

}  // namespace

std::string markdown_report(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  const nlohmann::json *failure = failure_of(r);
  double limit = v["budget_seconds"].get<double>() * v["safety"].get<double>();
  std::string out = fmt::format("# Cutover rehearsal: {}\n\n", v["fits"].get<bool>() ? "fits the budget"
                                                               : failure ? "FAILED in " + failure->value("phase", "?")
                                                                         : std::string("OVER BUDGET"));
  out += fmt::format("## Verdict: {}\n\n", verdict_word(v));
  if (arr(v, "reasons").empty()) out += "- no reason against: within budget x safety, verify equal, checks passed, no slower query\n";
  for (const auto &x : arr(v, "reasons"))
    out += fmt::format("- {} ({}): {}\n", x.value("blocking", true) ? "**blocking**" : "warning", x.value("kind", ""),
                       x.value("message", ""));
  out += "\n";
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
  for (const auto &p : r["phases"])
    if (p["phase"] == "queries")
      out += fmt::format("- the timed queries (phase `queries`, {:.1f}s) measure the new server; they are not a step of "
                         "the cutover and not counted in the total\n",
                         p["seconds"].get<double>());
  out += fmt::format("- source {}, target {}\n", r.value("source", "?"), r.value("target", "?"));
  out += fmt::format("- verify: {}; user checks: {} passed of {}\n", r["verify_ok"].get<bool>() ? "target equals source" : "DIFFERENCES",
                     r["checks_passed"].get<int>(), r["checks"].size());
  if (r.contains("verify") && r["verify"].contains("source_as_of"))
    out += fmt::format("- verify read the source as of {}\n", r["verify"]["source_as_of"].get<std::string>());
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
  if (slowest_s >= 0)
    out += fmt::format("\nThe longest phase is **{}** ({:.0f}% of the total).\n", slowest, slowest_s / total * 100);
  out += fmt::format("\nBudget {}, budget x safety {}.\n\n", duration(v["budget_seconds"]), duration(limit));
  out += "## Tables (sync)\n\n| table | method | rows read | rows written | deleted | changes/h | merge ms/row | sync s |\n"
         "|---|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto &t : r["sync"]["tables"])
    out += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} |\n", t["table"].get<std::string>(), t.value("method", "-"),
                       count(t, "rows_read"), count(t, "rows_written"), count(t, "deleted"), num(t, "changes_per_hour"),
                       ms_per_row(t), num(t, "sync_seconds", "{:.2f}"));
  if (!arr(r, "slowest_tables").empty()) {
    out += "\n### Slowest tables\n\n";
    int i = 0;
    for (const auto &t : arr(r, "slowest_tables"))
      out += fmt::format("{}. {} ({:.2f}s)\n", ++i, t.value("table", ""), t.value("sync_seconds", 0.0));
  }
  if (r["sync"].contains("final_sync_scans") && !r["sync"]["final_sync_scans"].empty()) {
    // Their cost does not shrink with a later last sync: each final sync
    // reads them whole (or replaces a key-less one), whatever changed.
    out += "\n### Tables the final sync reads whole\n\nTheir cost is the same at every sync, however little changed:\n\n"
           "| table | method | size | est. s | with the default --scan-below | choices |\n|---|---|---:|---:|---|---|\n";
    for (const auto &s : r["sync"]["final_sync_scans"])
      out += fmt::format("| {} | {} | {} | {:.1f} | {} | {} |\n", s.value("table", ""), s.value("method", ""),
                         fmt::format("{:.1f} MB", static_cast<double>(s.value("bytes", i64{0})) / 1e6), s.value("estimated_seconds", 0.0),
                         s.value("refused_without_allow_scan", false) ? "refused unless --allow-scan" : "scanned",
                         s.value("choices", ""));
  }
  out += "\n## If the final sync ran later\n\nEstimated final-sync time after a period without syncing, from the rows "
         "changed per table since the last sync (changes/h) and the merge cost per row measured here:\n\n"
         "| after | estimated | budget | budget x safety | fits |\n|---|---:|---:|---:|---|\n";
  for (const auto &p : arr(r, "projection"))
    out += fmt::format("| {} | {} | {} | {} | {} |\n", p["after"].get<std::string>(), duration(p["seconds"]),
                       duration(v["budget_seconds"]), duration(limit), p.value("fits", false) ? "yes" : "**no**");
  out += fmt::format("\nLatest last sync: {}\n", latest_text(r));
  if (!r["checks"].empty()) {
    out += "\n## User checks\n\n";
    for (const auto &c : r["checks"])
      out += fmt::format("- {} **{}** ({:.2f}s){}\n", c["ok"].get<bool>() ? "passed" : "FAILED", c["name"].get<std::string>(),
                         c["seconds"].get<double>(), c.value("detail", "").empty() ? "" : ": " + c.value("detail", ""));
  }
  if (!arr(r, "queries").empty()) {
    out += fmt::format("\n## Queries (median of the runs, after ANALYZE)\n\n| query | source ms | target ms | target/source | |\n"
                       "|---|---:|---:|---:|---|\n");
    for (const auto &q : arr(r, "queries")) {
      if (!q.value("error", "").empty()) {
        out += fmt::format("| {} | - | - | - | FAILED: {} |\n", q.value("name", ""), q.value("error", ""));
        continue;
      }
      out += fmt::format("| {} | {:.2f} | {:.2f} | {:.2f}x | {} |\n", q.value("name", ""), q.value("source_median_ms", 0.0),
                         q.value("target_median_ms", 0.0), q.value("ratio", 0.0), q.value("slower", false) ? "**slower**" : "ok");
    }
    out += fmt::format("\nA query is slower when the target's median exceeds the source's by more than {:.2f}x; {}.\n",
                       r.value("query_tolerance", 1.2),
                       r.value("queries_must_not_regress", false)
                           ? "a slower query makes the verdict no-go (queries_must_not_regress = true)"
                           : "a slower query is reported as a warning and does not change the verdict "
                             "(set queries_must_not_regress = true to make it no-go)");
  }
  out += "\n## History (last runs)\n\n";
  if (!r.value("history_error", "").empty()) out += fmt::format("The history could not be kept: {}\n\n", r.value("history_error", ""));
  out += fmt::format("Kept in {}.\n\n| date | total | sync | budget | fits |\n|---|---:|---:|---:|---|\n", r.value("history_where", "-"));
  for (const auto &h : arr(r, "history"))
    out += fmt::format("| {} | {} | {} | {} | {} |\n", h.value("run_at", ""), duration(h.value("total_seconds", 0.0)),
                       duration(h.value("sync_seconds", 0.0)), duration(h.value("budget_seconds", 0.0)),
                       h.value("fits", false) ? "yes" : "no");
  return out;
}

namespace {

// A tick step giving at most about 10 ticks over `span` seconds.
double tick_step(double span) {
  for (double step : {0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
                      7200.0, 3 * 3600.0, 6 * 3600.0, 12 * 3600.0, 24 * 3600.0})
    if (span / step <= 10) return step;
  return span / 10;
}

std::string tick_label(double t) {
  if (t < 60) return fmt::format("{:g}s", std::round(t * 10) / 10);
  if (t < 3600) {
    int s = static_cast<int>(std::lround(t));
    return s % 60 ? fmt::format("{}m{:02}s", s / 60, s % 60) : fmt::format("{}m", s / 60);
  }
  int m = static_cast<int>(std::lround(t / 60));
  return m % 60 ? fmt::format("{}h{:02}m", m / 60, m % 60) : fmt::format("{}h", m / 60);
}

// The seconds the timelines span: the run, and the budget when it is within
// 4x the run (further off, its line stands at the right edge, labelled).
double timeline_span(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  double total = std::max(1e-6, v["total_seconds"].get<double>());
  for (const auto &p : r["phases"]) total = std::max(total, p["end"].get<double>());
  double budget = v["budget_seconds"].get<double>();
  return budget <= 4 * total ? std::max(total, budget) * 1.05 : total * 1.1;
}

// The phases on a time axis, with the budget and budget x safety as vertical
// lines on the same scale. The scale extends to the budget when it is within
// 4x the rehearsal's time; further off, each line stands at the right edge
// and its label says where it really is.
std::string phases_svg(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  const auto &phases = r["phases"];
  double budget = v["budget_seconds"].get<double>(), limit = budget * v["safety"].get<double>();
  double span = timeline_span(r);
  const int W = 900, left = 170, width = left + W + 80;
  auto x = [&](double t) { return left + std::min(t, span) / span * W; };
  const int y0 = 34;
  int n = static_cast<int>(phases.size());
  int axis = y0 + 24 * n + 4, height = axis + 34;
  std::string svg = fmt::format(
      "<svg id=\"phases\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-size=\"12\" "
      "data-scale-seconds=\"{:.3f}\">\n",
      width, height, span);
  int y = y0, i = 0;
  for (const auto &p : phases) {
    double s = p["start"], e = p["end"];
    svg += fmt::format("<text x=\"4\" y=\"{}\">{}</text><rect class=\"phase-bar\" data-phase=\"{}\" x=\"{:.1f}\" y=\"{}\" "
                       "width=\"{:.1f}\" height=\"16\" fill=\"{}\"><title>{}: {:.2f}s</title></rect><text x=\"{:.1f}\" "
                       "y=\"{}\">{:.2f}s</text>\n",
                       y + 13, esc(p["phase"]), esc(p["phase"]), x(s), y, std::max(1.0, x(e) - x(s)), COLORS[i % 8],
                       esc(p["phase"]), e - s, std::min<double>(x(e) + 4, left + W + 4), y + 13, e - s);
    y += 24;
    ++i;
  }
  // The time axis.
  svg += fmt::format("<g id=\"time-axis\"><line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#555\"/>\n", left, left + W,
                     axis, axis);
  double step = tick_step(span);
  for (double t = 0; t <= span + 1e-9; t += step)
    svg += fmt::format("<line class=\"tick\" x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\"/>"
                       "<text class=\"tick-label\" x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
                       x(t), axis, axis + 5, axis + 18, tick_label(t));
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">time since the start</text></g>\n", left + W, axis + 31);
  // Budget and budget x safety.
  auto line = [&](const char *id, const char *what, double seconds, const char *color, const char *dash, int label_y) {
    bool on = seconds <= span;
    double lx = on ? x(seconds) : left + W;
    svg += fmt::format("<line id=\"{}\" class=\"limit-line\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" "
                       "stroke-width=\"2\"{} data-seconds=\"{:.3f}\" data-off-scale=\"{}\"/>\n",
                       id, lx, lx, label_y + 3, axis, color, dash, seconds, on ? "false" : "true");
    svg += fmt::format("<text id=\"{}-label\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"end\" fill=\"{}\">{} {}{}</text>\n", id,
                       lx - 3, label_y, color, what, duration(seconds), on ? "" : " (off scale, further right)");
  };
  line("budget-line", "budget", budget, "#b00", "", 12);
  line("safety-line", "budget x safety", limit, "#e08a3c", " stroke-dasharray=\"6 4\"", 26);
  svg += "</svg>\n";
  return svg;
}

// The last runs: total and sync time per run as bars, the budget as a line.
std::string history_svg(const nlohmann::json &runs) {
  const int H = 160, top = 24, left = 60, bar = 36, gap = 24;
  int n = static_cast<int>(runs.size());
  int width = left + std::max(6, n) * (bar + gap) + 200;  // room for the budget's label
  double most = 1e-6, budget = 0;
  for (const auto &h : runs) {
    most = std::max(most, h.value("total_seconds", 0.0));
    budget = h.value("budget_seconds", 0.0);  // the latest run's
  }
  bool on = budget <= 4 * most;
  double span = on ? std::max(most, budget) * 1.1 : most * 1.1;
  auto y = [&](double s) { return top + H - std::min(s, span) / span * H; };
  std::string svg = fmt::format("<svg id=\"history-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
                                "font-size=\"12\">\n",
                                width, top + H + 40);
  svg += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#555\"/><line x1=\"{0}\" x2=\"{3}\" y1=\"{2}\" "
                     "y2=\"{2}\" stroke=\"#555\"/>\n<text x=\"4\" y=\"{4}\">{5}</text><text x=\"4\" y=\"{2}\">0</text>\n",
                     left, top, top + H, width - 190, top + 4, tick_label(span));
  int i = 0;
  for (const auto &h : runs) {
    double t = h.value("total_seconds", 0.0), sy = h.value("sync_seconds", 0.0);
    int bx = left + gap / 2 + i * (bar + gap);
    svg += fmt::format("<rect class=\"history-bar\" x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"{}\">"
                       "<title>{}: total {}, sync {}</title></rect>\n",
                       bx, y(t), bar, top + H - y(t), h.value("fits", false) ? "#4caf7a" : "#d64f4f",
                       esc(h.value("run_at", "")), duration(t), duration(sy));
    svg += fmt::format("<rect class=\"history-sync-bar\" x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"{:.1f}\" fill=\"#4a7bd0\"/>\n",
                       bx + bar / 4, y(sy), bar / 2, top + H - y(sy));
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", bx + bar / 2, top + H + 14,
                       esc(h.value("run_at", "").size() > 16 ? h.value("run_at", "").substr(5, 11) : h.value("run_at", "")));
    ++i;
  }
  double ly = on ? y(budget) : top;
  svg += fmt::format("<line id=\"history-budget-line\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#b00\" "
                     "stroke-width=\"2\" data-off-scale=\"{}\"/><text x=\"{}\" y=\"{:.1f}\">budget {}{}</text>\n",
                     left, width - 190, ly, ly, on ? "false" : "true", width - 186, ly + 4, duration(budget),
                     on ? "" : " (off scale, above)");
  svg += fmt::format("<text x=\"{}\" y=\"{}\">bars: total (green fits, red not), inner: sync</text>\n", left, top + H + 32);
  svg += "</svg>\n";
  return svg;
}

std::string cell(const char *cls, const std::string &text) { return fmt::format("<td class=\"{}\">{}</td>", cls, esc(text)); }

}  // namespace

std::string html_report(const nlohmann::json &r) {
  const auto &v = r["verdict"];
  double total = std::max(1e-6, v["total_seconds"].get<double>());
  double limit = v["budget_seconds"].get<double>() * v["safety"].get<double>();
  const int W = 900, left = 170;
  double span = timeline_span(r);  // the ranges and the throughput on the phases' scale
  auto x = [&](double t) { return left + std::min(t, span) / span * W; };
  std::string svg = phases_svg(r);
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
                     " .warn{color:#a66000} table{border-collapse:collapse;margin-bottom:8px}"
                     " td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
                     " td:first-child,th:first-child{text-align:left}</style></head><body>\n";
  const nlohmann::json *failure = failure_of(r);
  html += fmt::format("<h1 class=\"{}\">Cutover rehearsal: {}</h1>\n", v["fits"].get<bool>() ? "ok" : "bad",
                      v["fits"].get<bool>() ? "fits the budget"
                      : failure             ? "failed in " + esc(failure->value("phase", "?"))
                                            : std::string("over budget"));
  bool go = v.value("go", false);
  html += fmt::format("<h2 id=\"verdict\" class=\"{}\" data-go=\"{}\">Verdict: {}</h2>\n<ul id=\"reasons\">\n", go ? "ok" : "bad",
                      go ? "true" : "false", verdict_word(v));
  if (arr(v, "reasons").empty())
    html += "<li class=\"reason none\">no reason against: within budget x safety, verify equal, checks passed, no slower query</li>\n";
  for (const auto &x : arr(v, "reasons")) {
    bool blocking = x.value("blocking", true);
    html += fmt::format("<li class=\"reason {} {}\"><b>{}</b> ({}): {}</li>\n", blocking ? "blocking bad" : "warning warn",
                        esc(x.value("kind", "")), blocking ? "blocking" : "warning", esc(x.value("kind", "")),
                        esc(x.value("message", "")));
  }
  html += "</ul>\n";
  if (failure) {
    html += "<h2 class=\"bad\">Failure</h2>\n<table id=\"failure\">\n";
    for (const char *k : {"phase", "table", "message", "sqlstate", "hint"})
      if (!failure->value(k, "").empty())
        html += fmt::format("<tr><th>{}</th><td style=\"text-align:left\">{}</td></tr>\n",
                            std::string(k) == "hint" ? "what to do" : k, esc(failure->value(k, "")));
    html += "</table>\n";
  }
  html += fmt::format("<p>Total <b>{}</b> against a budget of <b>{}</b> (safety {:.0f}%: budget x safety {}), margin {}. "
                      "Verify: {}. User checks: {} of {} passed.</p>\n",
                      duration(total), duration(v["budget_seconds"]), v["safety"].get<double>() * 100, duration(limit),
                      duration(v["margin_seconds"]), r["verify_ok"].get<bool>() ? "target equals source" : "differences",
                      r["checks_passed"].get<int>(), r["checks"].size());
  if (r.contains("verify") && r["verify"].contains("source_as_of"))
    html += fmt::format("<p id=\"verify-as-of\">Verify read the source as of {}.</p>\n", esc(r["verify"]["source_as_of"]));
  if (r.contains("verify") && r["verify"].contains("sequences_as_of"))
    html += fmt::format("<p>Sequences compared with {} (sequences are not transactional; later values belong to the "
                        "next sync).</p>\n",
                        esc(r["verify"]["sequences_as_of"]));
  html += "<h2>Phases</h2>\n" + svg;
  html += "<h2>Tables (sync)</h2>\n<table id=\"tables\"><tr><th>table</th><th>method</th><th>rows read</th><th>rows "
          "written</th><th>deleted</th><th>changes/h</th><th>merge ms/row</th><th>sync s</th></tr>\n";
  for (const auto &t : r["sync"]["tables"])
    html += fmt::format("<tr class=\"table-row\" data-table=\"{}\">{}{}{}{}{}{}{}{}</tr>\n", esc(t["table"]),
                        cell("name", t["table"]), cell("method", t.value("method", "-")), cell("rows-read", count(t, "rows_read")),
                        cell("rows-written", count(t, "rows_written")), cell("deleted", count(t, "deleted")),
                        cell("changes-per-hour", num(t, "changes_per_hour")), cell("merge-ms-per-row", ms_per_row(t)),
                        cell("sync-seconds", num(t, "sync_seconds", "{:.2f}")));
  html += "</table>\n<h3>Slowest tables</h3>\n<ol id=\"slowest\">\n";
  for (const auto &t : arr(r, "slowest_tables"))
    html += fmt::format("<li>{} ({:.2f}s)</li>\n", esc(t.value("table", "")), t.value("sync_seconds", 0.0));
  html += "</ol>\n";
  html += "<h2>If the final sync ran later</h2>\n<table id=\"projection\"><tr><th>after</th><th>estimated final sync</th>"
          "<th>budget</th><th>budget x safety</th><th>fits</th></tr>\n";
  for (const auto &p : arr(r, "projection"))
    html += fmt::format("<tr class=\"projection-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td></tr>\n",
                        esc(p["after"]), duration(p["seconds"]), duration(v["budget_seconds"]), duration(limit),
                        p.value("fits", false) ? "ok" : "bad", p.value("fits", false) ? "yes" : "no");
  html += fmt::format("</table>\n<p id=\"latest-last-sync\">Latest last sync: {}</p>\n", esc(latest_text(r)));
  html += "<h2>Ranges per worker</h2>\n" + rsvg + "<h2>Throughput over time</h2>\n" + tsvg;
  if (!r["checks"].empty()) {
    html += "<h2>User checks</h2>\n<table id=\"checks\"><tr><th>check</th><th>result</th><th>seconds</th><th>detail</th></tr>\n";
    for (const auto &c : r["checks"])
      html += fmt::format("<tr><td>{}</td><td class=\"{}\">{}</td><td>{:.2f}</td><td style=\"text-align:left\">{}</td></tr>\n",
                          esc(c["name"]), c["ok"].get<bool>() ? "ok" : "bad", c["ok"].get<bool>() ? "passed" : "FAILED",
                          c["seconds"].get<double>(), esc(c.value("detail", "")));
    html += "</table>\n";
  }
  if (!arr(r, "queries").empty()) {
    html += "<h2>Queries (median of the runs, after ANALYZE)</h2>\n<table id=\"queries\"><tr><th>query</th><th>source ms</th>"
            "<th>target ms</th><th>target/source</th><th></th></tr>\n";
    for (const auto &q : arr(r, "queries")) {
      if (!q.value("error", "").empty()) {
        html += fmt::format("<tr><td>{}</td><td>-</td><td>-</td><td>-</td><td class=\"bad\">failed: {}</td></tr>\n",
                            esc(q.value("name", "")), esc(q.value("error", "")));
        continue;
      }
      bool slower = q.value("slower", false);
      html += fmt::format("<tr><td>{}</td><td>{:.2f}</td><td>{:.2f}</td><td>{:.2f}x</td><td class=\"{}\">{}</td></tr>\n",
                          esc(q.value("name", "")), q.value("source_median_ms", 0.0), q.value("target_median_ms", 0.0),
                          q.value("ratio", 0.0), slower ? "warn" : "ok", slower ? "slower" : "ok");
    }
    html += fmt::format("</table>\n<p>A query is slower when the target's median exceeds the source's by more than "
                        "{:.2f}x; {}.</p>\n",
                        r.value("query_tolerance", 1.2),
                        r.value("queries_must_not_regress", false)
                            ? "a slower query makes the verdict no-go (queries_must_not_regress = true)"
                            : "a slower query is reported as a warning and does not change the verdict "
                              "(set queries_must_not_regress = true to make it no-go)");
  }
  html += "<h2>History (last runs)</h2>\n";
  if (!r.value("history_error", "").empty())
    html += fmt::format("<p class=\"bad\">The history could not be kept: {}</p>\n", esc(r.value("history_error", "")));
  html += fmt::format("<p>Kept in {}.</p>\n<table id=\"history\"><tr><th>date</th><th>total</th><th>sync</th><th>budget</th>"
                      "<th>fits</th></tr>\n",
                      esc(r.value("history_where", "-")));
  for (const auto &h : arr(r, "history"))
    html += fmt::format("<tr class=\"history-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        esc(h.value("run_at", "")), duration(h.value("total_seconds", 0.0)),
                        duration(h.value("sync_seconds", 0.0)), duration(h.value("budget_seconds", 0.0)),
                        h.value("fits", false) ? "yes" : "no");
  html += "</table>\n" + history_svg(arr(r, "history"));
  html += "</body></html>\n";
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
