// Issue 22, point 9: the demo builds what it runs. scripts/demo.sh builds the
// `pgcutover` target alone (the tests and benchmarks are scripts/test.sh's):
// the build function is run with cmake replaced by a recorder.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace {

std::string run_shell(const std::string &script) {
  std::string out;
  FILE *p = popen(("bash -c '" + script + "' 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = pclose(p);
  if (rc != 0) out += "\nexit status " + std::to_string(rc);
  return out;
}

std::string demo_build_line() {
  std::ifstream in(std::string(PGCUTOVER_SOURCE_DIR) + "/scripts/demo.sh");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("pgcutover_build", 0) == 0) return line;
  return "";
}

}  // namespace

TEST(DemoBuild, BuildsThePgcutoverTargetAlone) {
  std::string line = demo_build_line();
  ASSERT_NE(line, "") << "scripts/demo.sh has no pgcutover_build line";
  // The demo's own build call, as written in demo.sh, with cmake recorded.
  std::string call = line.substr(0, line.find('>'));
  std::string out = run_shell("cd " + std::string(PGCUTOVER_SOURCE_DIR) +
                              " && source scripts/lib/deps.sh && cmake() { echo \"cmake $*\"; } && " + call);
  EXPECT_NE(out.find("--build build -j"), std::string::npos) << out;
  EXPECT_NE(out.find("--target pgcutover\n"), std::string::npos) << "the demo builds more than the tool:\n" << out;
  // The test script still builds everything.
  std::string all = run_shell("cd " + std::string(PGCUTOVER_SOURCE_DIR) +
                              " && source scripts/lib/deps.sh && cmake() { echo \"cmake $*\"; } && pgcutover_build build");
  EXPECT_EQ(all.find("--target"), std::string::npos) << all;
}
