// The dependency direction of README's architecture, read from the #include
// lines of every header and source: a file includes only its own layer's
// headers and those of the layers below it.
//   util, report (model and progress: every layer records into them)
//   pg, sql, catalog, copybin, spill, logical
//   sync, follow, verify, diff, pipeline, plan, ledger, schema, sequences, ... (modules)
//   jobs
//   views, cli (views show the jobs' results; nothing below includes one)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const std::map<std::string, int> RANK = {
    {"util", 0},     {"report", 0},        {"pg", 1},       {"sql", 1},     {"catalog", 1},   {"copybin", 1},
    {"spill", 1},    {"logical", 1},       {"follow", 2},   {"sync", 2},          {"verify", 2},   {"diff", 2},    {"pipeline", 2},  {"plan", 2},
    {"ledger", 2},   {"schema", 2},        {"sequences", 2}, {"merge", 2},  {"strategy_bench", 2},
    {"traffic", 2},  {"rehearse", 2},      {"jobs", 3},     {"views", 4},   {"cli", 4},
};

bool allowed(const std::string &from, const std::string &to) {
  if (from == "util") return to == "util";
  if (from == "report") return to == "util" || to == "report";
  if (from == "views") return to != "cli";
  return RANK.at(to) <= RANK.at(from);
}

}  // namespace

TEST(Layers, IncludesPointDownOnly) {
  const fs::path root = PGCUTOVER_SOURCE_DIR;
  const std::regex include_line(R"re(^\s*#include\s+"pgcutover/([a-z_]+)/)re");
  std::vector<std::string> wrong;
  int files = 0;
  for (const fs::path base : {root / "include" / "pgcutover", root / "src"}) {
    for (const auto &entry : fs::recursive_directory_iterator(base)) {
      if (!entry.is_regular_file()) continue;
      fs::path rel = fs::relative(entry.path(), base);
      if (rel.begin() == rel.end() || std::next(rel.begin()) == rel.end()) continue;  // src/main.cpp: the top
      std::string layer = rel.begin()->string();
      ASSERT_TRUE(RANK.count(layer)) << "a folder the layering does not know: " << (base / layer)
                                     << " (add it to RANK and README's architecture)";
      ++files;
      std::ifstream in(entry.path());
      std::string line;
      std::smatch m;
      while (std::getline(in, line))
        if (std::regex_search(line, m, include_line)) {
          std::string to = m[1];
          if (!RANK.count(to)) wrong.push_back(entry.path().string() + ": includes unknown " + to);
          else if (!allowed(layer, to)) wrong.push_back(entry.path().string() + " (" + layer + ") includes " + to + "/");
        }
    }
  }
  EXPECT_GT(files, 100) << "the source tree was not found under " << root;
  std::string list;
  for (const std::string &w : wrong) list += "\n  " + w;
  EXPECT_TRUE(wrong.empty()) << "includes against the dependency direction:" << list;
}
