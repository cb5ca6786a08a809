#include "pgcutover/pg/conninfo.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <regex>

#include "pgcutover/util/error.hpp"

namespace pgcutover::pg {

namespace {
struct OptionsDeleter {
  void operator()(PQconninfoOption *o) const noexcept { PQconninfoFree(o); }
};
std::string env_or(const char *name, std::string fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}
}  // namespace

ConninfoView parse_conninfo(const std::string &conninfo) {
  char *err = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(PQconninfoParse(conninfo.c_str(), &err));
  if (!opts) {
    std::string msg = err ? err : "out of memory";
    if (err) PQfreemem(err);
    ConninfoView tmp;
    // The parse failed, so we cannot know the password for sure: never echo libpq's text.
    (void)msg;
    throw_usage("the connection string cannot be parsed",
                "pass a libpq conninfo (\"host=... dbname=...\") or a postgresql:// URI");
  }
  ConninfoView view;
  for (PQconninfoOption *o = opts.get(); o->keyword; ++o) {
    std::string key = o->keyword;
    std::string val = o->val ? o->val : "";
    if (key == "host" || (key == "hostaddr" && view.host.empty())) view.host = val;
    else if (key == "port") view.port = val;
    else if (key == "dbname") view.dbname = val;
    else if (key == "user") view.user = val;
    else if (key == "password") view.password = val;
  }
  if (view.host.empty()) view.host = env_or("PGHOST", "");
  if (view.port.empty()) view.port = env_or("PGPORT", "5432");
  if (view.user.empty()) view.user = env_or("PGUSER", "");
  if (view.dbname.empty()) view.dbname = env_or("PGDATABASE", view.user);
  return view;
}

std::string display_name(const ConninfoView &v) {
  std::string host = v.host.empty() ? "local" : v.host;
  std::string out = host + ":" + v.port + "/" + v.dbname;
  if (!v.user.empty()) out += " user=" + v.user;
  return out;
}

std::string redact(std::string text, const ConninfoView &view) {
  const std::string &pw = view.password;
  if (pw.empty()) return text;
  for (size_t pos = text.find(pw); pos != std::string::npos; pos = text.find(pw, pos)) {
    text.replace(pos, pw.size(), "********");
    pos += 8;
  }
  return text;
}

std::vector<std::pair<std::string, std::string>> connect_defaults(const std::string &conninfo) {
  std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(PQconninfoParse(conninfo.c_str(), nullptr));
  auto given = [&](const char *key) {
    if (!opts) return false;
    for (PQconninfoOption *o = opts.get(); o->keyword; ++o)
      if (std::strcmp(o->keyword, key) == 0) return o->val != nullptr && *o->val != '\0';
    return false;
  };
  std::vector<std::pair<std::string, std::string>> out;
  if (given("service") || !env_or("PGSERVICE", "").empty()) return out;
  if (!given("connect_timeout") && env_or("PGCONNECT_TIMEOUT", "").empty())
    out.emplace_back("connect_timeout", std::to_string(DEFAULT_CONNECT_TIMEOUT_S));
  if (!given("keepalives")) out.emplace_back("keepalives", "1");
  if (!given("keepalives_idle")) out.emplace_back("keepalives_idle", "30");
  if (!given("keepalives_interval")) out.emplace_back("keepalives_interval", "10");
  if (!given("keepalives_count")) out.emplace_back("keepalives_count", "3");
  return out;
}

namespace {
// "<severity>:  <5-character code>: " as pqBuildErrorMessage3 writes it with PQERRORS_VERBOSE.
const std::regex VERBOSE_CODE(":  ([0-9A-Z]{5}): ");
}  // namespace

std::string sqlstate_of_verbose_message(const std::string &message) {
  std::string state;
  for (auto it = std::sregex_iterator(message.begin(), message.end(), VERBOSE_CODE); it != std::sregex_iterator(); ++it)
    state = (*it)[1].str();
  return state;
}

std::string without_verbose_fields(const std::string &message) {
  std::string text = std::regex_replace(message, VERBOSE_CODE, ":  ");
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
    if (line.rfind("LOCATION:  ", 0) != 0) out += line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace pgcutover::pg
