#include "pgcutover/pg/conninfo.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>

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

}  // namespace pgcutover::pg
