#include "compiler/apply/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace ferry::apply {
namespace {

// What the forked processes tell the parent through the status pipe.
struct SpawnMessage {
  char tag = 0;   // 'P': the detached pid; 'E': errno of a failed step
  char step = 0;  // 'd': chdir, 'l': the log file, 'x': exec, 'f': fork
  int value = 0;
};

void WriteMessage(int fd, SpawnMessage message) {
  // One small write: atomic on a pipe, async-signal-safe.
  [[maybe_unused]] const ssize_t n = ::write(fd, &message, sizeof message);
}

auto StepText(char step) -> std::string_view {
  switch (step) {
    case 'd':
      return "cannot enter the working folder";
    case 'l':
      return "cannot open the log file";
    case 'f':
      return "cannot fork";
    default:
      return "cannot execute";
  }
}

// Marks every descriptor above stderr close-on-exec, so a program we start
// inherits none of ours: an inherited state lock would keep the project
// locked for that program's life. Async-signal-safe (runs between fork and exec).
void CloseOnExecAbove2() {
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0) return;
  // Kernels before 5.11: one descriptor at a time.
  struct rlimit limit {};
  const rlim_t most = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY
                          ? std::min<rlim_t>(limit.rlim_cur, 1 << 20)
                          : 1 << 16;
  for (int fd = 3; fd < static_cast<int>(most); ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

// In the detached grandchild, before exec: only async-signal-safe calls.
[[noreturn]] void ExecDetached(char* const* argv, const char* directory, const char* log_path,
                               int status_fd) {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal : {SIGPIPE, SIGHUP, SIGINT, SIGTERM}) ::signal(signal, SIG_DFL);
  if (::chdir(directory) != 0) {
    WriteMessage(status_fd, {'E', 'd', errno});
    ::_exit(127);
  }
  const int null_fd = ::open("/dev/null", O_RDONLY);
  const int log_fd = ::open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (null_fd < 0 || log_fd < 0) {
    WriteMessage(status_fd, {'E', 'l', errno});
    ::_exit(127);
  }
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  // Everything else (our state lock, sockets, the status pipe) closes at exec.
  CloseOnExecAbove2();
  ::execv(argv[0], argv);
  WriteMessage(status_fd, {'E', 'x', errno});
  ::_exit(127);
}

auto CStrings(const std::vector<std::string>& argv) -> std::vector<char*> {
  std::vector<char*> pointers;
  pointers.reserve(argv.size() + 1);
  for (const std::string& arg : argv) pointers.push_back(const_cast<char*>(arg.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

auto ExitCode(int status) -> int {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

auto PidFileLocked(const std::string& path) -> bool {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  // Closing drops the shared lock we may have taken.
  ::close(fd);
  return locked;
}

auto ReadPidFile(const std::string& path) -> std::optional<pid_t> {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

auto ProcessAlive(pid_t pid) -> bool {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno == ESRCH)) return false;
  // A zombie (exited, not yet reaped by whoever adopted it) is gone for us.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 >= text.size()) return false;
  if (text[paren + 2] != 'Z' && text[paren + 2] != 'X') return true;
  // A killed multi-threaded process's leader can be a zombie while its other
  // threads still exit, holding its files (and the router's pid-file lock).
  std::error_code ec;
  const std::string leader = std::to_string(pid);
  for (const auto& thread : std::filesystem::directory_iterator("/proc/" + leader + "/task", ec)) {
    if (thread.path().filename() != leader) return true;
  }
  return false;
}

auto ProcessCommandLine(pid_t pid) -> std::vector<std::string> {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::vector<std::string> args;
  std::string arg;
  while (std::getline(in, arg, '\0')) args.push_back(arg);
  return args;
}

auto SpawnDetached(const std::vector<std::string>& argv, const std::string& working_directory,
                   const std::string& log_path, std::string& error) -> std::optional<pid_t> {
  if (argv.empty()) {
    error = "nothing to run";
    return std::nullopt;
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error = std::string("cannot create a pipe: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<char*> args = CStrings(argv);
  const pid_t child = ::fork();
  if (child < 0) {
    error = std::string("cannot fork: ") + std::strerror(errno);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return std::nullopt;
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::setsid();
    const pid_t grandchild = ::fork();
    if (grandchild < 0) WriteMessage(pipe_fds[1], {'E', 'f', errno});
    if (grandchild != 0) {
      if (grandchild > 0) WriteMessage(pipe_fds[1], {'P', 0, grandchild});
      ::_exit(0);
    }
    ExecDetached(args.data(), working_directory.c_str(), log_path.c_str(), pipe_fds[1]);
  }
  ::close(pipe_fds[1]);
  // EOF comes when the middle process exited and the program was executed.
  std::optional<pid_t> pid;
  SpawnMessage message;
  while (true) {
    const ssize_t n = ::read(pipe_fds[0], &message, sizeof message);
    if (n < 0 && errno == EINTR) continue;
    if (n != static_cast<ssize_t>(sizeof message)) break;
    if (message.tag == 'P') {
      pid = message.value;
    } else {
      error = std::string(StepText(message.step)) + " (" + argv[0] +
              "): " + std::strerror(message.value);
      pid.reset();
    }
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!pid && error.empty()) error = "cannot start " + argv[0];
  return error.empty() ? pid : std::nullopt;
}

auto TerminateProcess(pid_t pid, int grace_ms) -> bool {
  if (!ProcessAlive(pid)) return true;
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
  while (ProcessAlive(pid) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ProcessAlive(pid)) return true;
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 100 && ProcessAlive(pid); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return !ProcessAlive(pid);
}

auto KillProcessesWorkingIn(const std::string& folder) -> int {
  int killed = 0;
  std::error_code ec;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code link_error;
    const std::string cwd = std::filesystem::read_symlink(entry.path() / "cwd", link_error);
    if (link_error || !(cwd == folder || cwd.starts_with(folder + "/"))) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(name));
    if (pid != ::getpid() && ::kill(pid, SIGKILL) == 0) ++killed;
  }
  return killed;
}

auto RunAndStream(const std::vector<std::string>& argv, const std::string& working_directory,
                  const std::function<void(std::string_view line)>& on_line, std::string& error)
    -> int {
  int pipe_fds[2];
  if (argv.empty() || ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    error = argv.empty() ? "nothing to run"
                         : std::string("cannot create a pipe: ") + std::strerror(errno);
    return -1;
  }
  std::vector<char*> args = CStrings(argv);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) {
    error = std::string("cannot fork: ") + std::strerror(errno);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    return -1;
  }
  if (child == 0) {
    // A build outlives no ferry: killed with it (its compilers, left running
    // in the build folder, are stopped by the next build: bundle_cache.h).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(137);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    if (::chdir(working_directory.c_str()) != 0) ::_exit(126);
    CloseOnExecAbove2();
    ::execvp(args[0], args.data());
    const char text[] = "cannot execute the program\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, text, sizeof text - 1);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  std::string pending;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      on_line(std::string_view(pending).substr(start, end - start));
    }
    pending.erase(0, start);
  }
  if (!pending.empty()) on_line(pending);
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      error = std::string("cannot wait for ") + argv[0] + ": " + std::strerror(errno);
      return -1;
    }
  }
  return ExitCode(status);
}

}  // namespace ferry::apply
