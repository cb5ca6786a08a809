// Views of the bench result: the ranking as JSON and text, every run as CSV,
// and an SVG of median MB/s per combination.
#include <fmt/format.h>

#include <algorithm>

#include "pgcutover/views/views.hpp"

namespace pgcutover::views {

using strategy_bench::BenchResult;
using strategy_bench::Combo;
using strategy_bench::Run;
using strategy_bench::Summary;

namespace {

std::string snippet(const Combo &c) {
  return fmt::format("[copy]\njobs = {}\nrange_bytes = \"{}\"\nformat = \"{}\"\nspill = \"{}\"\nstrategy = \"{}\"\n", c.jobs,
                     report::format_bytes(c.range_bytes), c.format, c.spill, c.merge) +
         (c.toast != "default" ? fmt::format("# on the target: ALTER TABLE ... ALTER COLUMN ... SET COMPRESSION {}\n", c.toast) : "");
}


}  // namespace

nlohmann::json bench_json(const BenchResult &r) {
  nlohmann::json combos = nlohmann::json::array();
  int rank = 0;
  auto sums = strategy_bench::rank(r);
  for (const Summary &s : sums) {
    const Combo &c = r.combos[s.combo];
    combos.push_back({{"rank", ++rank}, {"label", c.label()}, {"jobs", c.jobs}, {"range_bytes", c.range_bytes},
                      {"format", c.format}, {"spill", c.spill}, {"merge", c.merge}, {"toast", c.toast},
                      {"staging", c.staging}, {"into", c.into}, {"status", s.failed ? "failed" : s.ok ? "ok" : "skipped"},
                      {"error", s.error}, {"runs", s.ok}, {"mb_per_s_median", s.mbps}, {"mb_per_s_min", s.mbps_min},
                      {"mb_per_s_max", s.mbps_max}, {"rows_per_s_median", s.rows_per_s}, {"engine_cpu_percent", s.cpu},
                      {"peak_rss_kb", s.rss}, {"wal_bytes_median", s.wal}});
  }
  nlohmann::json runs = nlohmann::json::array();
  for (const Run &run : r.runs)
    runs.push_back({{"combination", r.combos[run.combo].label()}, {"round", run.round + 1}, {"ok", run.ok},
                    {"error", run.error}, {"seconds", run.seconds}, {"rows", run.rows}, {"bytes", run.bytes},
                    {"cpu_seconds", run.cpu_seconds}, {"peak_rss_kb", run.peak_rss_kb}, {"wal_bytes", run.wal_bytes}});
  nlohmann::json j = {{"combinations", combos}, {"runs", runs}, {"skipped", r.skipped}, {"table_bytes", r.table_bytes}};
  if (!sums.empty() && sums[0].ok > 0 && sums[0].failed == 0) j["recommended"] = snippet(r.combos[sums[0].combo]);
  return j;
}

std::string bench_text(const BenchResult &r) {
  std::string out = fmt::format("{:>4}  {:<62} {:>9} {:>15} {:>11} {:>6} {:>8} {:>10}\n", "rank", "combination", "MB/s",
                                "spread", "rows/s", "cpu%", "rss MB", "WAL MB");
  int rank = 0;
  auto sums = strategy_bench::rank(r);
  for (const Summary &s : sums) {
    const Combo &c = r.combos[s.combo];
    if (s.failed || !s.ok) {
      out += fmt::format("{:>4}  {:<62} {}\n", ++rank, c.label(), s.failed ? "FAILED: " + s.error : "skipped");
      continue;
    }
    out += fmt::format("{:>4}  {:<62} {:>9.1f} {:>7.1f}-{:<7.1f} {:>11.0f} {:>6.1f} {:>8.1f} {:>10.1f}\n", ++rank, c.label(),
                       s.mbps, s.mbps_min, s.mbps_max, s.rows_per_s, s.cpu, s.rss / 1024.0, s.wal / 1e6);
  }
  for (const std::string &sk : r.skipped) out += "skipped: " + sk + "\n";
  if (!sums.empty() && sums[0].ok > 0 && sums[0].failed == 0)
    out += "\nrecommended settings:\n" + snippet(r.combos[sums[0].combo]);
  return out;
}

std::string bench_csv(const BenchResult &r) {
  std::string out = "combination,round,ok,seconds,rows,bytes,mb_per_s,cpu_seconds,peak_rss_kb,wal_bytes,error\n";
  for (const Run &run : r.runs) {
    std::string err = run.error;
    std::replace(err.begin(), err.end(), '"', '\'');
    out += fmt::format("\"{}\",{},{},{:.3f},{},{},{:.2f},{:.3f},{},{},\"{}\"\n", r.combos[run.combo].label(), run.round + 1,
                       run.ok, run.seconds, run.rows, run.bytes, run.ok ? run.bytes / 1e6 / std::max(run.seconds, 1e-9) : 0.0,
                       run.cpu_seconds, run.peak_rss_kb, run.wal_bytes, err);
  }
  return out;
}

std::string bench_svg(const BenchResult &r) {
  auto sums = strategy_bench::rank(r);
  double top = 1;
  for (const Summary &s : sums) top = std::max(top, s.mbps_max);
  int row = 26, left = 430, width = 360, h = 40 + row * static_cast<int>(sums.size());
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<text x=\"10\" y=\"20\" font-weight=\"bold\">pgcutover bench: median MB/s per combination (whiskers: min-max)</text>\n",
      left + width + 80, h);
  int y = 32;
  for (const Summary &s : sums) {
    std::string label = r.combos[s.combo].label();
    for (char &ch : label)
      if (ch == '<' || ch == '>' || ch == '&') ch = ' ';
    out += fmt::format("<text x=\"10\" y=\"{}\">{}</text>\n", y + 15, label);
    if (s.ok && !s.failed) {
      double w = s.mbps / top * width;
      out += fmt::format("<rect class=\"bar\" x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"18\" fill=\"#4a7bd0\"/>\n", left, y + 2, w);
      out += fmt::format("<line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\" stroke=\"#222\"/>\n", left + s.mbps_min / top * width,
                         left + s.mbps_max / top * width, y + 11, y + 11);
      out += fmt::format("<text x=\"{:.1f}\" y=\"{}\">{:.1f}</text>\n", left + w + 6, y + 15, s.mbps);
    } else {
      out += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#b00\">{}</text>\n", left, y + 15, s.failed ? "failed" : "skipped");
    }
    y += row;
  }
  return out + "</svg>\n";
}

View bench(const BenchResult &r) { return {bench_json(r), bench_text(r)}; }

}  // namespace pgcutover::views
