// The rehearsal's view when a phase failed before the sync finished: every
// key is present and the reports render (a failure must reach the user as
// itself, never as a JSON error of the report).
#include <gtest/gtest.h>

#include "pgcutover/jobs/rehearse_job.hpp"
#include "pgcutover/rehearse/report_files.hpp"
#include "pgcutover/report/views.hpp"

using namespace pgcutover;

TEST(RehearseView, FailureBeforeTheSyncRenders) {
  jobs::RehearseResult r;
  r.failure = Error(ErrorKind::Permanent, "column a.attgenerated does not exist");
  report::RunReport rep;
  report::views::View v;
  ASSERT_NO_THROW(v = report::views::rehearse(r, rep, "src", "dst", "cfg.toml"));
  EXPECT_EQ(v.json["failure"], "column a.attgenerated does not exist");
  EXPECT_FALSE(v.json["verdict"]["fits"].get<bool>());
  EXPECT_NO_THROW(rehearse::markdown_report(v.json));
  EXPECT_EQ(v.json["failure_detail"]["phase"], "sync");
  EXPECT_NE(rehearse::markdown_report(v.json).find("# Cutover rehearsal: FAILED in sync"), std::string::npos);
  EXPECT_NE(rehearse::markdown_report(v.json).find("attgenerated"), std::string::npos);
}
