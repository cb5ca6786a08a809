// The rehearsal's view when a phase failed before the sync finished: every
// key is present and the reports render (a failure must reach the user as
// itself, never as a JSON error of the report).
#include <gtest/gtest.h>

#include "pgcutover/jobs/rehearse_job.hpp"
#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/views/views.hpp"

using namespace pgcutover;

TEST(RehearseView, FailureBeforeTheSyncRenders) {
  jobs::RehearseResult r;
  r.failure = Error(ErrorKind::Permanent, "column a.attgenerated does not exist");
  report::RunReport rep;
  views::View v;
  ASSERT_NO_THROW(v = views::rehearse(r, rep, "src", "dst", "cfg.toml"));
  EXPECT_EQ(v.json["failure"], "column a.attgenerated does not exist");
  EXPECT_FALSE(v.json["verdict"]["fits"].get<bool>());
  EXPECT_NO_THROW(rehearse::markdown_report(v.json));
  EXPECT_EQ(v.json["failure_detail"]["phase"], "sync");
  EXPECT_NE(rehearse::markdown_report(v.json).find("# Cutover rehearsal: FAILED in sync"), std::string::npos);
  EXPECT_NE(rehearse::markdown_report(v.json).find("attgenerated"), std::string::npos);
  // No projection without a sync, and the reports say so; the HTML renders.
  EXPECT_TRUE(v.json["latest_last_sync"]["hours"].is_null());
  EXPECT_NE(rehearse::markdown_report(v.json).find("Latest last sync: none (no projection: the sync did not finish; budget x safety"),
            std::string::npos)
      << rehearse::markdown_report(v.json);
  EXPECT_NE(rehearse::html_report(v.json).find("id=\"budget-line\""), std::string::npos);
}

namespace {

// A rehearsal that ran through: two tables, five phases, a projection, the
// latest last sync and two runs of history.
jobs::RehearseResult sample_result(double budget) {
  jobs::RehearseResult r;
  r.sync.emplace();
  r.sync->snapshot.taken_at = "2026-01-02T03:04:05.000000Z";
  for (const char *name : {"orders", "customers"}) {
    jobs::SyncedTable t;
    t.table = {"public", name};
    t.rows_read = std::string(name) == "orders" ? 120 : 0;
    t.rows_written = std::string(name) == "orders" ? 117 : 0;
    t.deleted = std::string(name) == "orders" ? 3 : 0;
    t.watermark = "2026-01-02T02:04:05.000000Z";
    r.sync->tables.push_back(t);
    jobs::TableRate tr;
    tr.table = t.table.display();
    tr.changes_per_hour = static_cast<double>(t.rows_read);
    if (t.rows_read) tr.merge_seconds_per_row = 0.002;
    tr.sync_seconds = t.rows_read ? 0.24 : 0;
    r.rates.push_back(tr);
  }
  r.verdict = {6.5, budget, 0.8, budget * 0.8 - 6.5, true, true, {}};
  r.projection = {{1, 6.7}, {6, 7.9}, {24, 12.3}};
  r.latest_last_sync = {2.5, "2026-01-02T05:34:05.000000Z", ""};
  r.queries.push_back({"q1", {1, 2, 3}, {2, 4, 6}, 2, 4, 2.0, true, ""});
  r.verdict.reasons.push_back({"query", "query 'q1' is slower on the target", false});
  r.history = {{"2026-01-01T00:00:00.000000Z", 5.0, 2.0, budget, 0.8, true, true, {{"sync_changes", 1.0}}},
               {"2026-01-02T03:04:00.000000Z", 6.5, 2.5, budget, 0.8, true, true, {{"sync_changes", 1.2}}}};
  r.history_where = "pgcutover.rehearsals on the target";
  return r;
}

// Five phases of 1.3 s each.
const report::RunReport &sample_report() {
  static report::RunReport rep;
  static bool filled = false;
  if (filled) return rep;
  filled = true;
  double t = 0;
  for (const char *p : {"schema_drift", "sync_changes", "verify", "analyze", "user_checks"}) {
    rep.add_phase({p, t, t + 1.3});
    t += 1.3;
  }
  return rep;
}

// The x of the element with this id's attribute, from the HTML text.
double attr_of(const std::string &html, const std::string &id, const std::string &attr) {
  size_t at = html.find("id=\"" + id + "\"");
  EXPECT_NE(at, std::string::npos) << id;
  size_t start = html.rfind('<', at), end = html.find('>', at);
  std::string tag = html.substr(start, end - start);
  size_t a = tag.find(" " + attr + "=\"");
  EXPECT_NE(a, std::string::npos) << tag;
  return std::stod(tag.substr(a + attr.size() + 3));
}

}  // namespace

TEST(RehearseView, ProjectionShowsTheBudgetBesideEachFigureAndTheLatestLastSync) {
  views::View v = views::rehearse(sample_result(60), sample_report(), "src", "dst", "cfg.toml");
  ASSERT_EQ(v.json["projection"].size(), 3u);
  for (auto &p : v.json["projection"]) {
    EXPECT_EQ(p["budget_seconds"], 60.0);
    EXPECT_DOUBLE_EQ(p["limit_seconds"].get<double>(), 48.0);
  }
  EXPECT_DOUBLE_EQ(v.json["latest_last_sync"]["hours"].get<double>(), 2.5);
  EXPECT_EQ(v.json["latest_last_sync"]["at"], "2026-01-02T05:34:05.000000Z");
  std::string md = rehearse::markdown_report(v.json), html = rehearse::html_report(v.json);
  EXPECT_NE(md.find("| after | estimated | budget | budget x safety | fits |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 24h | 12.3s | 1m00s | 48.0s | yes |"), std::string::npos) << md;
  EXPECT_NE(md.find("Latest last sync: 2.5 h after the sync's snapshot, at 2026-01-02T05:34:05.000000Z"), std::string::npos) << md;
  EXPECT_NE(html.find("id=\"latest-last-sync\""), std::string::npos);
  EXPECT_NE(html.find("<td>24h</td><td>12.3s</td><td>1m00s</td><td>48.0s</td>"), std::string::npos);
}

TEST(RehearseView, TimelineHasAnAxisAndTheBudgetOnItsScaleOrSaysItIsOff) {
  // Within 4x the rehearsal's time: the scale reaches the budget.
  std::string html = rehearse::html_report(views::rehearse(sample_result(20), sample_report(), "s", "d", "c").json);
  double width = attr_of(html, "phases", "width");
  double scale = attr_of(html, "phases", "data-scale-seconds");
  EXPECT_GE(scale, 20.0);
  double budget_x = attr_of(html, "budget-line", "x1"), safety_x = attr_of(html, "safety-line", "x1");
  EXPECT_GT(budget_x, 170);
  EXPECT_LT(budget_x, width);
  EXPECT_LT(safety_x, budget_x) << "budget x safety (16s) stands left of the budget (20s)";
  EXPECT_NEAR((budget_x - 170) / (safety_x - 170), 20.0 / 16.0, 0.01) << "one scale for both";
  EXPECT_NE(html.find("data-off-scale=\"false\""), std::string::npos);
  EXPECT_NE(html.find("class=\"tick\""), std::string::npos);
  EXPECT_NE(html.find(">10s</text>"), std::string::npos) << "tick labels in seconds";
  // Far off: pinned at the right edge, the label says where it is.
  html = rehearse::html_report(views::rehearse(sample_result(7200), sample_report(), "s", "d", "c").json);
  budget_x = attr_of(html, "budget-line", "x1");
  EXPECT_LT(budget_x, attr_of(html, "phases", "width"));
  EXPECT_NE(html.find("budget 2h00m (off scale, further right)"), std::string::npos);
  size_t bars = 0;
  for (size_t p = html.find("class=\"phase-bar\""); p != std::string::npos; p = html.find("class=\"phase-bar\"", p + 1)) ++bars;
  EXPECT_EQ(bars, 5u);
}

TEST(RehearseView, TablesSlowestVerdictQueriesAndHistoryInAllThreeFiles) {
  views::View v = views::rehearse(sample_result(60), sample_report(), "src", "dst", "cfg.toml");
  std::string md = rehearse::markdown_report(v.json), html = rehearse::html_report(v.json);
  // Per table: rows read, written, deleted and the change rate.
  EXPECT_EQ(v.json["sync"]["tables"][0]["rows_written"], 117);
  EXPECT_NE(md.find("| public.orders | "), std::string::npos) << md;
  EXPECT_NE(md.find("| 120 | 117 | 3 | 120 | 2.000 | 0.24 |"), std::string::npos) << md;
  EXPECT_NE(html.find("<td class=\"rows-read\">120</td><td class=\"rows-written\">117</td><td class=\"deleted\">3</td>"
                      "<td class=\"changes-per-hour\">120</td>"),
            std::string::npos);
  // The slowest tables.
  ASSERT_EQ(v.json["slowest_tables"].size(), 2u);
  EXPECT_EQ(v.json["slowest_tables"][0]["table"], "public.orders");
  EXPECT_NE(md.find("### Slowest tables\n\n1. public.orders (0.24s)"), std::string::npos) << md;
  EXPECT_NE(html.find("<ol id=\"slowest\">\n<li>public.orders"), std::string::npos);
  // The verdict with its reasons: a slower query is a warning by default.
  EXPECT_TRUE(v.json["verdict"]["go"].get<bool>());
  EXPECT_EQ(v.json["verdict"]["reasons"][0]["kind"], "query");
  EXPECT_NE(md.find("## Verdict: GO"), std::string::npos);
  EXPECT_NE(md.find("- warning (query): query 'q1' is slower"), std::string::npos) << md;
  EXPECT_NE(html.find("<li class=\"reason warning warn query\">"), std::string::npos);
  EXPECT_NE(md.find("does not change the verdict"), std::string::npos);
  // Queries: both latencies and the ratio.
  EXPECT_EQ(v.json["queries"][0]["source_median_ms"], 2.0);
  EXPECT_EQ(v.json["queries"][0]["target_median_ms"], 4.0);
  EXPECT_NE(md.find("| q1 | 2.00 | 4.00 | 2.00x | **slower** |"), std::string::npos) << md;
  EXPECT_NE(html.find("id=\"queries\""), std::string::npos);
  // History: both runs, a bar each, the budget line.
  EXPECT_EQ(v.json["history"].size(), 2u);
  EXPECT_NE(md.find("| 2026-01-01T00:00:00.000000Z | 5.0s | 2.0s | 1m00s | yes |"), std::string::npos) << md;
  size_t rows = 0;
  for (size_t p = html.find("class=\"history-row\""); p != std::string::npos; p = html.find("class=\"history-row\"", p + 1)) ++rows;
  EXPECT_EQ(rows, 2u);
  EXPECT_NE(html.find("id=\"history-budget-line\""), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

// Tables the final sync reads whole cost the same at every sync: the
// rehearsal report lists them with their size, estimate and the choices
// (issue 24 point 3: a key-less table's reload shown days ahead).
TEST(RehearseView, TablesTheFinalSyncReadsWholeAreListedWithTheChoices) {
  jobs::RehearseResult r = sample_result(60);
  sync::FinalSyncScan s;
  s.table = "public.events";
  s.method.kind = sync::ChangeKind::Reload;
  s.cost.scans = true;
  s.cost.too_big = true;
  s.cost.bytes = 3'000'000'000;
  s.cost.seconds = 15.0;
  s.choices = "the table has no primary key ... ADD PRIMARY KEY";
  r.sync->scans.push_back(s);
  views::View v = views::rehearse(r, sample_report(), "src", "dst", "cfg.toml");
  std::string md = rehearse::markdown_report(v.json);
  EXPECT_NE(md.find("### Tables the final sync reads whole"), std::string::npos) << md;
  EXPECT_NE(md.find("| public.events | reload | 3000.0 MB | 15.0 | refused unless --allow-scan | the table has no "
                    "primary key ... ADD PRIMARY KEY |"),
            std::string::npos)
      << md;
  // Without such tables, no such section.
  std::string plain = rehearse::markdown_report(views::rehearse(sample_result(60), sample_report(), "src", "dst", "cfg.toml").json);
  EXPECT_EQ(plain.find("reads whole"), std::string::npos) << plain;
}
