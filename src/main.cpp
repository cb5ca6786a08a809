// pgcutover: parse the command line, run one command, map failures to exit
// codes. The only place that exits.
//
// Exit codes: 0 ok; 1 failure; 2 usage (bad options, refused tables, schema
// mismatch); 3 differences found / plan refusals; 130 interrupted (SIGINT),
// 143 terminated (SIGTERM).
#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <cstdio>
#include <cstring>
#include <string>
#include <new>
#include <vector>

#include <oneapi/tbb/global_control.h>

#include "pgcutover/cli/command.hpp"
#include "pgcutover/pg/connection.hpp"
#include "pgcutover/pg/conninfo.hpp"
#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"
#include "pgcutover/util/log.hpp"

using namespace pgcutover;

namespace {

// A password passed on the command line is overwritten in argv after parsing,
// so it does not stay visible in /proc/PID/cmdline or `ps`.
void scrub_argv(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    size_t eq = arg.find('=');
    std::string value = arg.rfind("--", 0) == 0 && eq != std::string::npos ? arg.substr(eq + 1) : arg;
    if (value.find('=') == std::string::npos && value.find("://") == std::string::npos) continue;
    try {
      pg::ConninfoView v = pg::parse_conninfo(value);
      if (v.password.empty()) continue;
      for (char *p = std::strstr(argv[i], v.password.c_str()); p; p = std::strstr(p, v.password.c_str()))
        std::memset(p, '*', v.password.size());
    } catch (...) {
      // Not a conninfo after all: nothing to scrub.
    }
  }
}

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return 2;
    case ErrorKind::Cancelled: return cancel::signal_number() == 15 ? 143 : 130;
    default: return 1;
  }
}

int run(cli::Command &chosen) {
  try {
    return chosen.run();
  } catch (const Error &e) {
    if (cancel::requested()) {
      // Whatever failed after the signal failed because of it. What that
      // leaves behind depends on the command: each says it.
      int sig = cancel::signal_number();
      cli::Interruption note = chosen.interrupted ? chosen.interrupted() : cli::Interruption{"stopped", ""};
      std::fprintf(stderr, "pgcutover: interrupted by %s: %s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT", note.what.c_str());
      if (!note.hint.empty()) std::fprintf(stderr, "hint: %s\n", note.hint.c_str());
      return sig == SIGTERM ? 143 : 130;
    }
    std::fprintf(stderr, "pgcutover: error: %s\n", e.describe().c_str());
    return exit_code_for(e.kind);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "pgcutover: internal error: %s\nhint: this is a bug; please report it with the command line (without secrets)\n", e.what());
    return 1;
  }
}

}  // namespace

int main(int argc, char **argv) {
  CLI::App app{"pgcutover: parallel PostgreSQL copy for cutovers inside an outage window", "pgcutover"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("pgcutover ") + PGCUTOVER_VERSION);
  cli::CommonOptions common;
  std::vector<cli::Command> commands = {
      cli::copy_command(app, common),     cli::plan_command(app, common),  cli::load_command(app, common),
      cli::sync_command(app, common),     cli::sequences_command(app, common), cli::verify_command(app, common),
      cli::rehearse_command(app, common), cli::bench_command(app, common), cli::finish_command(app, common),
      cli::traffic_command(app, common)};
  for (cli::Command &c : commands) cli::add_common_options(*c.app, common);

  // Parse a copy, so the password in argv can be scrubbed before anything else runs.
  std::vector<std::string> args(argv + 1, argv + argc);
  std::reverse(args.begin(), args.end());
  scrub_argv(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::ParseError &e) {
    // --help and --version end well; every other parse failure is a usage error.
    return app.exit(e) == 0 ? 0 : 2;
  }
  log::set_level(common.verbose >= 1 ? log::Level::Debug : log::Level::Info);
  cancel::install_signal_handlers();
  // After a signal, the statements in flight on any connection are cancelled
  // (the pipeline cancels its own pools too), and again every second those that
  // block longer: a run never waits on a lock or a slow query once asked to stop.
  std::atomic<bool> ending{false};
  std::thread signal_watcher([&ending] {
    auto last = std::chrono::steady_clock::time_point{};
    while (!ending.load()) {
      if (cancel::requested() && std::chrono::steady_clock::now() - last >= std::chrono::seconds(1)) {
        pg::cancel_running_statements(last == std::chrono::steady_clock::time_point{} ? std::chrono::milliseconds(0)
                                                                                      : std::chrono::milliseconds(1000));
        last = std::chrono::steady_clock::now();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  // TBB's worker threads are joined before main returns: a worker still
  // winding down while static destructors and the allocator tear down is a
  // crash at exit (seen after SIGINT as exit 139).
  oneapi::tbb::task_scheduler_handle tbb_workers{oneapi::tbb::attach{}};
  int rc = 2;
  for (cli::Command &c : commands)
    if (c.app->parsed()) {
      rc = run(c);
      break;
    }
  ending.store(true);
  signal_watcher.join();
  oneapi::tbb::finalize(tbb_workers, std::nothrow);
  return rc;
}
