#include "pgcutover/pg/conninfo.hpp"

#include <libpq-fe.h>

#include <algorithm>
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

namespace {

bool all_digits(const std::string &s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// libpq's parse errors name the keyword in double quotes (invalid connection
// option "x", missing "=" after "x"); a keyword-shaped quote is safe to show.
std::string named_keyword(const std::string &libpq_message) {
  static const std::regex KEYWORD("invalid (?:connection|URI query parameter) option \"([a-z_]+)\"|"
                                  "invalid URI query parameter: \"([a-z_]+)\"");
  std::smatch m;
  if (!std::regex_search(libpq_message, m, KEYWORD)) return "";
  return m[1].matched ? m[1].str() : m[2].str();
}

}  // namespace

void check_conninfo(const std::string &conninfo, const std::string &option) {
  const std::string hint = "pass a libpq conninfo (\"host=... port=5432 dbname=...\") or a postgresql:// URI";
  char *err = nullptr;
  std::unique_ptr<PQconninfoOption, OptionsDeleter> opts(PQconninfoParse(conninfo.c_str(), &err));
  if (!opts) {
    std::string msg = err ? err : "";
    if (err) PQfreemem(err);
    std::string key = named_keyword(msg);
    if (!key.empty()) throw_usage(option + ": unknown connection keyword \"" + key + "\"", hint);
    throw_usage(option + ": the connection string cannot be parsed (an unquoted space in a value, a missing '=', "
                         "an unclosed quote?)", hint);
  }
  // Keywords libpq reads as integers (it would fail at connect time, or
  // quietly take a prefix of the value).
  static const char *const NUMBERS[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                                        "keepalives_count", "tcp_user_timeout", "load_balance_hosts_seed"};
  for (PQconninfoOption *o = opts.get(); o->keyword; ++o) {
    if (!o->val) continue;  // not given
    const std::string key = o->keyword, val = o->val;
    // "host= port=5432": libpq skips the space and reads "port=5432" as the host.
    static const std::regex NEXT_KEYWORD("^[a-z_]+=");
    if (key != "password" && std::regex_search(val, NEXT_KEYWORD))
      throw_usage(option + ": " + key + " is given without a value (libpq would read the next keyword as its value)",
                  "give " + key + " a value, quote an empty one (" + key + "=''), or leave it out");
    if (key == "port") {
      // One port, or one per host (comma-separated; an empty one is the default).
      size_t start = 0;
      while (true) {
        size_t end = val.find(',', start);
        std::string p = val.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!(p.empty() && val.find(',') != std::string::npos) &&
            !(all_digits(p) && p.size() <= 5 && std::stoi(p) >= 1 && std::stoi(p) <= 65535))
          throw_usage(option + ": port \"" + p + "\" is not a port number (1 to 65535)", hint);
        if (end == std::string::npos) break;
        start = end + 1;
      }
    } else if (key == "host" || key == "hostaddr") {
      if (val.empty())
        throw_usage(option + ": " + key + " is given but empty",
                    "leave " + key + " out to use the default (PGHOST or the local socket), or name a host");
    } else if (std::find(std::begin(NUMBERS), std::end(NUMBERS), key) != std::end(NUMBERS)) {
      std::string v = val.rfind('-', 0) == 0 ? val.substr(1) : val;
      if (!all_digits(v)) throw_usage(option + ": " + key + " is not a whole number", hint);
    }
  }
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
