// A schema archive's table of contents (see archive.hpp).
#include "pgcutover/schema/archive.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include "child_process.hpp"
#include "pgcutover/util/error.hpp"

namespace pgcutover::schema {

namespace fs = std::filesystem;

namespace {

// pg_dump's words for the kinds of entries (10 to 18), longest first where
// one is the start of another, so the longest match wins.
const std::vector<std::string> &descs() {
  static const std::vector<std::string> list = [] {
    std::vector<std::string> d = {
        "ACCESS METHOD", "ACL", "AGGREGATE", "BLOB", "BLOB METADATA", "BLOBS", "CAST", "CHECK CONSTRAINT",
        "COLLATION", "COMMENT", "CONSTRAINT", "CONVERSION", "DATABASE", "DATABASE PROPERTIES", "DEFAULT",
        "DEFAULT ACL", "DOMAIN", "ENCODING", "EVENT TRIGGER", "EXTENSION", "FK CONSTRAINT",
        "FOREIGN DATA WRAPPER", "FOREIGN SERVER", "FOREIGN TABLE", "FUNCTION", "INDEX", "INDEX ATTACH",
        "LARGE OBJECT", "MATERIALIZED VIEW", "MATERIALIZED VIEW DATA", "OPERATOR", "OPERATOR CLASS",
        "OPERATOR FAMILY", "POLICY", "PROCEDURAL LANGUAGE", "PROCEDURE", "PUBLICATION", "PUBLICATION TABLE",
        "PUBLICATION TABLES IN SCHEMA", "ROW SECURITY", "RULE", "SCHEMA", "SEARCHPATH", "SECURITY LABEL",
        "SEQUENCE", "SEQUENCE OWNED BY", "SEQUENCE SET", "SERVER", "SHELL TYPE", "STATISTICS",
        "STATISTICS DATA", "STDSTRINGS", "SUBSCRIPTION", "SUBSCRIPTION TABLE", "TABLE", "TABLE ATTACH",
        "TABLE DATA", "TABLESPACE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
        "TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "TRANSFORM", "TRIGGER", "TYPE", "USER MAPPING", "VIEW"};
    std::sort(d.begin(), d.end(), [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
    return d;
  }();
  return list;
}

template <typename T>
bool parse_number(std::string_view s, T &out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Runs pg_restore --list (plus `extra`) on the archive and returns its lines.
std::vector<std::string> list_lines(const fs::path &archive, const SchemaOptions &opt,
                                    const std::vector<std::string> &extra) {
  static std::atomic<int> serial{0};
  fs::path out = archive.parent_path() / ("toc-" + std::to_string(getpid()) + "-" + std::to_string(++serial) + ".list");
  std::vector<std::string> argv = {util::find_pg_program("pg_restore", opt.pg_bin), "--list", "--file=" + out.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(archive.string());
  detail::run_checked(argv, {}, "pg_restore --list of the schema archive", "check pg_restore (--pg-bin)");
  std::vector<std::string> lines;
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  fs::remove(out);
  return lines;
}

}  // namespace

bool parse_archive_line(const std::string &line, ArchiveEntry &out) {
  if (line.empty() || line[0] == ';') return false;
  size_t semi = line.find("; ");
  if (semi == std::string::npos || !parse_number(std::string_view(line).substr(0, semi), out.id)) return false;
  size_t p = semi + 2;
  size_t sp1 = line.find(' ', p);
  if (sp1 == std::string::npos || !parse_number(std::string_view(line).substr(p, sp1 - p), out.catalog)) return false;
  size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string::npos || !parse_number(std::string_view(line).substr(sp1 + 1, sp2 - sp1 - 1), out.oid))
    return false;
  std::string tail = line.substr(sp2 + 1);
  out.desc.clear();
  for (const std::string &d : descs())
    if (tail.compare(0, d.size(), d) == 0 && (tail.size() == d.size() || tail[d.size()] == ' ')) {
      out.desc = d;
      break;
    }
  if (out.desc.empty()) out.desc = tail.substr(0, tail.find(' '));  // a kind newer than this list
  out.rest = tail.size() > out.desc.size() ? tail.substr(out.desc.size() + 1) : "";
  out.line = line;
  return true;
}

std::string ArchiveEntry::describe() const {
  // rest = "<namespace> <tag> <owner>": drop the owner (the last word), and a "-" namespace.
  std::string r = rest;
  while (!r.empty() && r.back() == ' ') r.pop_back();
  size_t last = r.rfind(' ');
  if (last != std::string::npos) r = r.substr(0, last);
  if (r.rfind("- ", 0) == 0) r = r.substr(2);
  else if (size_t sp = r.find(' '); sp != std::string::npos) r[sp] = '.';
  return desc + " " + r;
}

const ArchiveEntry *Archive::find(int id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &entries[it->second];
}

const ArchiveEntry *Archive::find_object(u32 catalog, u32 oid) const {
  auto it = by_object_.find({catalog, oid});
  return it == by_object_.end() ? nullptr : &entries[it->second];
}

std::vector<int> Archive::closure(const std::vector<int> &ids) const {
  std::set<int> seen;
  std::vector<int> todo = ids;
  while (!todo.empty()) {
    int id = todo.back();
    todo.pop_back();
    if (!seen.insert(id).second) continue;
    if (const ArchiveEntry *e = find(id))
      for (int d : e->deps)
        if (!seen.count(d)) todo.push_back(d);
  }
  std::vector<int> out;
  for (const ArchiveEntry &e : entries)
    if (seen.count(e.id)) out.push_back(e.id);
  return out;
}

Archive list_archive(const fs::path &path, const SchemaOptions &opt) {
  Archive a;
  a.path = path;
  ArchiveEntry *last = nullptr;
  for (const std::string &line : list_lines(path, opt, {"--verbose"})) {
    ArchiveEntry e;
    if (parse_archive_line(line, e)) {
      a.entries.push_back(std::move(e));
      last = &a.entries.back();
      continue;
    }
    // ";\tdepends on: 12 34" follows its entry.
    const std::string mark = "depends on:";
    size_t at = line.find(mark);
    if (!last || line.empty() || line[0] != ';' || at == std::string::npos) continue;
    std::istringstream deps(line.substr(at + mark.size()));
    for (int d; deps >> d;) last->deps.push_back(d);
  }
  for (size_t i = 0; i < a.entries.size(); ++i) {
    a.by_id_[a.entries[i].id] = i;
    if (a.entries[i].catalog != 0) a.by_object_[{a.entries[i].catalog, a.entries[i].oid}] = i;
  }
  auto mark = [&](const std::string &section, Section s) {
    for (const std::string &line : list_lines(path, opt, {"--section=" + section})) {
      ArchiveEntry e;
      if (!parse_archive_line(line, e)) continue;
      auto it = a.by_id_.find(e.id);
      if (it != a.by_id_.end()) a.entries[it->second].section = s;
    }
  };
  mark("pre-data", Section::PreData);
  mark("data", Section::Data);
  mark("post-data", Section::PostData);
  return a;
}

}  // namespace pgcutover::schema
