#include "pgcutover/util/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "pgcutover/util/cancel.hpp"
#include "pgcutover/util/error.hpp"

extern char **environ;

namespace pgcutover::util {

struct ChildSlotAccess {
  // Returns false when the slot was stopped before the child could be published
  // (the caller then stops it itself).
  static bool publish(ChildSlot &s, pid_t pid) {
    std::lock_guard lock(s.mu_);
    s.pid_ = pid;
    return !s.stopped_.load();
  }
  static void clear(ChildSlot &s) {
    std::lock_guard lock(s.mu_);
    s.pid_ = 0;
  }
};

void ChildSlot::terminate() {
  std::lock_guard lock(mu_);
  stopped_ = true;
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

namespace {

ProcessResult spawn_and_wait(const std::vector<std::string> &argv,
                             const std::vector<std::pair<std::string, std::string>> &env, bool with_stdout,
                             ChildSlot *slot) {
  if ((slot && slot->stopped()) || cancel::requested())
    throw Error(ErrorKind::Cancelled, argv[0] + " was not started: the run is stopping");
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) throw_internal(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
  if (with_stdout) posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);

  std::vector<std::string> env_strings;
  for (char **e = environ; *e; ++e) {
    std::string s = *e;
    bool overridden = false;
    for (const auto &[k, v] : env) overridden = overridden || s.rfind(k + "=", 0) == 0;
    if (!overridden) env_strings.push_back(std::move(s));
  }
  for (const auto &[k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char *> envp, args;
  for (std::string &s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (std::string &s : argv_copy) args.push_back(s.data());
  args.push_back(nullptr);

  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    throw_usage("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  const bool listed = cancel::register_child(pid);
  if (slot && !ChildSlotAccess::publish(*slot, pid)) ::kill(pid, SIGTERM);
  ProcessResult res;
  char buf[4096];
  for (;;) {
    ssize_t n = read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    res.err.append(buf, static_cast<size_t>(n));
    if (res.err.size() > (64 << 10)) res.err.erase(0, res.err.size() - (64 << 10));
  }
  close(pipefd[0]);
  // Wait for the exit without reaping, so the pid stays the child's until
  // neither the slot nor the signal handler's table names it.
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {}
  if (slot) ChildSlotAccess::clear(*slot);
  if (listed) cancel::unregister_child(pid);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  res.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return res;
}

}  // namespace

ProcessResult run_process(const std::vector<std::string> &argv,
                          const std::vector<std::pair<std::string, std::string>> &env) {
  return spawn_and_wait(argv, env, false, nullptr);
}

ProcessResult run_process(const std::vector<std::string> &argv,
                          const std::vector<std::pair<std::string, std::string>> &env, ChildSlot &slot) {
  return spawn_and_wait(argv, env, false, &slot);
}

ProcessResult run_process_output(const std::vector<std::string> &argv) { return spawn_and_wait(argv, {}, true, nullptr); }

std::string find_pg_program(const std::string &name, const std::string &bindir) {
  namespace fs = std::filesystem;
  if (!bindir.empty()) {
    fs::path p = fs::path(bindir) / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
    throw_usage(name + " not found in " + bindir, "point --pg-bin at the bin folder of a PostgreSQL client at least as new as the source server");
  }
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto &d : fs::directory_iterator("/usr/lib/postgresql", ec)) candidates.push_back(d.path() / "bin" / name);
  std::sort(candidates.begin(), candidates.end(), [](const fs::path &a, const fs::path &b) {
    auto ver = [](const fs::path &p) { return std::atoi(p.parent_path().parent_path().filename().c_str()); };
    return ver(a) > ver(b);
  });
  for (const fs::path &p : candidates)
    if (access(p.c_str(), X_OK) == 0) return p.string();
  if (const char *path = std::getenv("PATH")) {
    std::string all = path;
    size_t start = 0;
    while (start <= all.size()) {
      size_t end = all.find(':', start);
      if (end == std::string::npos) end = all.size();
      fs::path p = fs::path(all.substr(start, end - start)) / name;
      if (access(p.c_str(), X_OK) == 0) return p.string();
      start = end + 1;
    }
  }
  throw_usage(name + " not found", "install the PostgreSQL client (postgresql-client) or pass --pg-bin");
}

}  // namespace pgcutover::util
