#include "router/local_replicas.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <thread>

namespace ferry::router {

struct LocalReplicas::Process {
  std::size_t slot = 0;
  pid_t pid = 0;  ///< 0: not running (waiting to restart)
  int port = 0;
  bool ready = false;
  TimePoint last_probe{};
  TimePoint restart_at{};
  std::chrono::milliseconds backoff{0};
  TimePoint kill_at{};  ///< when stopping: SIGKILL from then on
};

namespace {

/// A port the OS considers free on `host` now (bind to port 0); 0 on failure.
auto FreePort(const std::string& host) -> int {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = 0;
  if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  }
  int port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

/// Writes `text` with write(2) only: safe between fork and exec.
void WriteRaw(int fd, const char* text) {
  std::size_t length = std::strlen(text);
  while (length > 0) {
    ssize_t written = ::write(fd, text, length);
    if (written <= 0) return;
    text += written;
    length -= static_cast<std::size_t>(written);
  }
}

/// Forks and execs `argv` in `directory` with stdout and stderr to `log_fd`;
/// returns the child's pid or -1. Only async-signal-safe calls in the child.
auto Spawn(const std::vector<std::string>& argv, const std::string& directory, int log_fd)
    -> pid_t {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return -1;
  rlimit files{};
  int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                   ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 65536))
                   : 65536;
  pid_t parent = ::getpid();
  // Signals stay blocked across fork until the child has dropped the router's
  // handlers: a SIGTERM before exec must not run the router's code in the child.
  sigset_t all;
  sigset_t saved;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &saved);
  pid_t pid = ::fork();
  if (pid != 0) {
    ::pthread_sigmask(SIG_SETMASK, &saved, nullptr);
    ::close(null_fd);
    return pid;
  }
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    ::signal(signal_number, SIG_DFL);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // The child: die with the router (the forking thread, which is the
  // router's control thread), even if it died before this line.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(log_fd, STDOUT_FILENO);
  ::dup2(log_fd, STDERR_FILENO);
  // No router socket or file may outlive the router in a replica.
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
  }
  if (!directory.empty() && ::chdir(directory.c_str()) != 0) {
    WriteRaw(STDERR_FILENO, "ferry-router: cannot enter the working directory ");
    WriteRaw(STDERR_FILENO, directory.c_str());
    WriteRaw(STDERR_FILENO, "\n");
    ::_exit(127);
  }
  ::execvp(args[0], args.data());
  WriteRaw(STDERR_FILENO, "ferry-router: cannot run ");
  WriteRaw(STDERR_FILENO, args[0]);
  WriteRaw(STDERR_FILENO, ": ");
  WriteRaw(STDERR_FILENO, ::strerror(errno));
  WriteRaw(STDERR_FILENO, "\n");
  ::_exit(127);
}

/// Inodes of the sockets listening on `port` (any address, IPv4 or IPv6).
auto ListeningInodes(int port) -> std::set<std::string> {
  std::set<std::string> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode;
      std::size_t colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
    }
  }
  return inodes;
}

/// Whether the socket listening on `port` is one of process `pid`'s.
auto ListensOn(pid_t pid, int port) -> bool {
  std::set<std::string> inodes = ListeningInodes(port);
  if (inodes.empty()) return false;
  std::error_code error;
  std::filesystem::directory_iterator fds("/proc/" + std::to_string(pid) + "/fd", error);
  if (error) return false;
  for (const auto& entry : fds) {
    std::string target = std::filesystem::read_symlink(entry.path(), error).string();
    if (error || target.rfind("socket:[", 0) != 0) continue;
    if (inodes.count(target.substr(8, target.size() - 9)) > 0) return true;
  }
  return false;
}

/// Reaps `pid` if it exited; true when it is gone.
auto Reaped(pid_t pid) -> bool {
  int status = 0;
  pid_t result = ::waitpid(pid, &status, WNOHANG);
  // ECHILD: someone else reaped it (e.g. SIGCHLD ignored); it is gone either way.
  return result == pid || (result < 0 && errno == ECHILD);
}

}  // namespace

auto ProbeReadyz(const std::string& host, int port, std::chrono::milliseconds timeout) -> bool {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  boost::system::error_code error;
  asio::ip::address address = asio::ip::make_address(host, error);
  if (error) return false;
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::empty_body> request{http::verb::get, "/readyz", 11};
  request.set(http::field::host, host);
  request.set(http::field::connection, "close");
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  bool ready = false;
  // One deadline for connect, write and read (tcp_stream's expiry applies to async operations).
  stream.expires_after(timeout);
  asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  stream.async_connect(endpoint, [&](auto ec) {
    if (ec) return;
    http::async_write(stream, request, [&](auto ec, std::size_t) {
      if (ec) return;
      http::async_read(stream, buffer, response,
                       [&](auto ec, std::size_t) { ready = !ec && response.result_int() == 200; });
    });
  });
  io.run();
  return ready;
}

LocalReplicas::LocalReplicas(LocalReplicasOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {
  log_directory_ = options_.log_directory;
  if (log_directory_.empty()) {
    log_directory_ =
        (options_.working_directory.empty() ? std::string(".") : options_.working_directory) +
        "/logs";
  }
  std::error_code error;
  std::filesystem::create_directories(log_directory_, error);
}

LocalReplicas::~LocalReplicas() {
  std::lock_guard lock(control_mutex_);
  TimePoint kill_at = std::chrono::steady_clock::now() + options_.stop_grace;
  for (auto& process : processes_) {
    if (process->pid > 0) ::kill(process->pid, SIGTERM);
    process->kill_at = kill_at;
    stopping_.push_back(std::move(process));
  }
  processes_.clear();
  bool killed = false;
  while (!stopping_.empty()) {
    std::erase_if(stopping_,
                  [](const auto& process) { return process->pid <= 0 || Reaped(process->pid); });
    if (stopping_.empty()) break;
    if (!killed && std::chrono::steady_clock::now() >= kill_at) {
      for (auto& process : stopping_) ::kill(process->pid, SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

auto LocalReplicas::LogPath(std::size_t slot) const -> std::string {
  return log_directory_ + "/" + options_.log_prefix + "-" + std::to_string(slot) + ".log";
}

void LocalReplicas::Start(Process& process, TimePoint now) {
  process.ready = false;
  process.port = FreePort(options_.host);
  int log_fd =
      ::open(LogPath(process.slot).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  std::vector<std::string> argv = options_.command;
  argv.push_back("--port");
  argv.push_back(std::to_string(process.port));
  pid_t pid = process.port > 0 && log_fd >= 0 && !options_.command.empty()
                  ? Spawn(argv, options_.working_directory, log_fd)
                  : -1;
  if (log_fd >= 0) ::close(log_fd);
  if (pid > 0) {
    process.pid = pid;
    process.last_probe = now;
    return;
  }
  // Could not even start: retry like a crash.
  process.pid = 0;
  process.backoff =
      std::clamp(process.backoff * 2, options_.restart_backoff, options_.restart_backoff_max);
  process.restart_at = now + process.backoff;
}

void LocalReplicas::Scale(std::int64_t count) {
  std::lock_guard lock(control_mutex_);
  TimePoint now = clock_.Now();
  desired_ = std::max<std::int64_t>(0, count);
  auto wanted = static_cast<std::size_t>(desired_);
  while (processes_.size() < wanted) {
    auto process = std::make_unique<Process>();
    process->slot = processes_.size();
    Start(*process, now);
    processes_.push_back(std::move(process));
  }
  // The newest go first: the oldest have warm caches and established connections.
  while (processes_.size() > wanted) {
    std::unique_ptr<Process> process = std::move(processes_.back());
    processes_.pop_back();
    if (process->pid > 0) {
      ::kill(process->pid, SIGTERM);
      process->kill_at = now + options_.stop_grace;
      stopping_.push_back(std::move(process));
    }
  }
  Publish();
}

void LocalReplicas::Reconcile(TimePoint now) {
  std::lock_guard lock(control_mutex_);
  std::erase_if(stopping_, [&](const auto& process) {
    if (Reaped(process->pid)) return true;
    if (now >= process->kill_at) ::kill(process->pid, SIGKILL);
    return false;
  });
  std::set<Process*> started;
  for (auto& process : processes_) {
    if (process->pid > 0 && Reaped(process->pid)) {
      process->pid = 0;
      process->ready = false;
      process->backoff =
          std::clamp(process->backoff * 2, options_.restart_backoff, options_.restart_backoff_max);
      process->restart_at = now + process->backoff;
    }
    if (process->pid == 0 && now >= process->restart_at) {
      Start(*process, now);
      started.insert(process.get());  // probed from the next reconcile on
    }
  }
  // The probes run side by side: one replica that hangs costs the control
  // loop (and with it the autoscaler) one probe timeout, not one per replica.
  std::vector<Process*> probed;
  std::vector<std::future<bool>> answers;
  for (auto& process : processes_) {
    if (process->pid == 0 || started.contains(process.get())) continue;
    if (process->ready && now - process->last_probe < options_.probe_interval) continue;
    process->last_probe = now;
    probed.push_back(process.get());
    answers.push_back(std::async(std::launch::async, options_.probe, options_.host, process->port,
                                 options_.probe_timeout));
  }
  for (std::size_t i = 0; i < probed.size(); ++i) {
    Process& process = *probed[i];
    const bool answered = answers[i].get();
    // Readiness answered on the port is only the replica's if the listening
    // socket is the child's (the port was free when chosen, not reserved).
    const bool ready = answered && (process.ready || ListensOn(process.pid, process.port));
    if (ready && !process.ready) process.backoff = std::chrono::milliseconds(0);
    process.ready = ready;
  }
  Publish();
}

void LocalReplicas::Publish() {
  std::vector<Replica> replicas;
  for (const auto& process : processes_) {
    if (process->pid > 0) replicas.push_back({options_.host, process->port, process->ready});
  }
  std::lock_guard lock(published_mutex_);
  published_ = std::move(replicas);
}

auto LocalReplicas::Replicas() const -> std::vector<Replica> {
  std::lock_guard lock(published_mutex_);
  return published_;
}

auto LocalReplicas::Desired() const -> std::int64_t {
  std::lock_guard lock(control_mutex_);
  return desired_;
}

auto LocalReplicas::Status() const -> std::vector<ReplicaStatus> {
  std::lock_guard lock(control_mutex_);
  std::vector<ReplicaStatus> status;
  std::error_code error;
  for (const auto& process : processes_) {
    std::filesystem::path log = std::filesystem::absolute(LogPath(process->slot), error);
    status.push_back({process->slot, process->pid > 0 ? static_cast<int>(process->pid) : 0,
                      process->pid > 0 ? process->port : 0, process->pid > 0 && process->ready,
                      log.lexically_normal().string()});
  }
  return status;
}

auto LocalReplicas::Pids() const -> std::vector<pid_t> {
  std::lock_guard lock(control_mutex_);
  std::vector<pid_t> pids;
  for (const auto& process : processes_) pids.push_back(process->pid);
  return pids;
}

}  // namespace ferry::router
