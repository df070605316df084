#include "compiler/apply/kubectl.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace ferry::apply {
namespace {

using Clock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Pipes for stdin, stdout and stderr; [i][0] is the read end.
struct Pipes {
  std::array<std::array<int, 2>, 3> fds{{{-1, -1}, {-1, -1}, {-1, -1}}};
  ~Pipes() {
    for (auto& pair : fds) {
      CloseFd(pair[0]);
      CloseFd(pair[1]);
    }
  }
  auto Open() -> bool {
    for (auto& pair : fds) {
      if (pipe2(pair.data(), O_CLOEXEC) != 0) return false;
    }
    return true;
  }
};

class ProcessRunner final : public KubectlRunner {
 public:
  auto Run(const std::vector<std::string>& argv, std::string_view input,
           std::chrono::milliseconds timeout) -> KubectlResult override {
    KubectlResult result;
    if (argv.empty()) {
      result.err = "no program to run";
      return result;
    }
    // Everything the child needs is built before fork: after it only
    // async-signal-safe calls are allowed.
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);

    Pipes pipes;
    if (!pipes.Open()) {
      result.err = std::string("cannot create pipes: ") + std::strerror(errno);
      return result;
    }
    const pid_t pid = fork();
    if (pid < 0) {
      result.err = std::string("cannot fork: ") + std::strerror(errno);
      return result;
    }
    if (pid == 0) {
      // Its own process group, so that a timeout kills kubectl's children too.
      setpgid(0, 0);
      dup2(pipes.fds[0][0], STDIN_FILENO);
      dup2(pipes.fds[1][1], STDOUT_FILENO);
      dup2(pipes.fds[2][1], STDERR_FILENO);
      execvp(args[0], args.data());
      static constexpr char kMessage[] = "cannot run the program (exec failed)\n";
      [[maybe_unused]] auto written = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
      _exit(127);
    }
    setpgid(pid, pid);
    CloseFd(pipes.fds[0][0]);
    CloseFd(pipes.fds[1][1]);
    CloseFd(pipes.fds[2][1]);
    int& stdin_fd = pipes.fds[0][1];
    int& stdout_fd = pipes.fds[1][0];
    int& stderr_fd = pipes.fds[2][0];
    fcntl(stdin_fd, F_SETFL, fcntl(stdin_fd, F_GETFL) | O_NONBLOCK);
    if (input.empty()) CloseFd(stdin_fd);

    const auto deadline = Clock::now() + timeout;
    std::size_t written = 0;
    while (stdout_fd >= 0 || stderr_fd >= 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        result.timed_out = true;
        break;
      }
      std::array<pollfd, 3> polls{};
      nfds_t count = 0;
      auto watch = [&](int fd, short events) {
        if (fd >= 0) polls[count++] = pollfd{fd, events, 0};
      };
      watch(stdin_fd, POLLOUT);
      watch(stdout_fd, POLLIN);
      watch(stderr_fd, POLLIN);
      const int ready = poll(polls.data(), count, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) break;
      for (nfds_t i = 0; i < count && ready > 0; ++i) {
        if (polls[i].revents == 0) continue;
        if (polls[i].fd == stdin_fd) {
          const ssize_t n = write(stdin_fd, input.data() + written, input.size() - written);
          if (n > 0) written += static_cast<std::size_t>(n);
          if (n < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
          if (written >= input.size()) CloseFd(stdin_fd);
          continue;
        }
        std::array<char, 65536> buffer;
        const ssize_t n = read(polls[i].fd, buffer.data(), buffer.size());
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        std::string& sink = polls[i].fd == stdout_fd ? result.out : result.err;
        if (n <= 0) {
          CloseFd(polls[i].fd == stdout_fd ? stdout_fd : stderr_fd);
          continue;
        }
        sink.append(buffer.data(), static_cast<std::size_t>(n));
      }
    }
    CloseFd(stdin_fd);
    if (result.timed_out) kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
    return result;
  }
};

auto StartsWith(std::string_view text, std::string_view prefix) -> bool {
  return text.substr(0, prefix.size()) == prefix;
}

auto Trim(std::string_view text) -> std::string_view {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

auto MakeProcessRunner() -> std::unique_ptr<KubectlRunner> {
  // A kubectl that dies while we write its stdin must not kill us.
  signal(SIGPIPE, SIG_IGN);
  return std::make_unique<ProcessRunner>();
}

auto Kubectl::Argv(std::string_view context, const std::vector<std::string>& args) const
    -> std::vector<std::string> {
  std::vector<std::string> argv{program_};
  if (!kubeconfig_.empty()) argv.push_back("--kubeconfig=" + kubeconfig_);
  if (!context.empty()) argv.push_back("--context=" + std::string(context));
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

auto Kubectl::Run(std::string_view context, const std::vector<std::string>& args,
                  std::string_view input) const -> KubectlResult {
  return runner_.Run(Argv(context, args), input, timeout_);
}

auto KubectlErrorLine(const KubectlResult& result) -> std::string {
  if (result.timed_out) return "kubectl did not finish in time";
  std::string_view rest = result.err;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = Trim(rest.substr(0, end));
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.empty() || StartsWith(line, "WARNING:") || StartsWith(line, "Warning:") ||
        StartsWith(line, "W1") || StartsWith(line, "W0")) {
      continue;
    }
    return std::string(line);
  }
  return "kubectl exited with status " + std::to_string(result.exit_code) + " and no message";
}

auto IsNotFound(const KubectlResult& result) -> bool {
  return !result.ok() && !result.timed_out &&
         (result.err.find("(NotFound)") != std::string::npos ||
          result.err.find("not found") != std::string::npos);
}

}  // namespace ferry::apply
