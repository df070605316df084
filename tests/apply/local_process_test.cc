// The local executor's process and file primitives: detached processes,
// pid-file liveness, streamed output, key generation and key files.
#include <doctest/doctest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "compiler/apply/process.h"
#include "compiler/apply/secrets.h"

namespace ferry::apply {
namespace {

namespace fs = std::filesystem;

auto ScratchFolder(const std::string& name) -> std::string {
  const fs::path folder =
      fs::temp_directory_path() / ("ferry-local-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::create_directories(folder);
  return folder.string();
}

auto ReadText(const std::string& path) -> std::string {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The parent pid /proc reports for `pid`.
auto ParentOf(pid_t pid) -> pid_t {
  const std::string stat = ReadText("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t paren = stat.rfind(')');
  REQUIRE(paren != std::string::npos);
  char state = 0;
  int parent = 0;
  std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &parent);
  return parent;
}

TEST_CASE(
    "local process: SpawnDetached starts a process that is not our child, with its output in the "
    "log") {
  const std::string folder = ScratchFolder("spawn");
  const std::string log = folder + "/out.log";
  std::string error;
  const std::optional<pid_t> pid =
      SpawnDetached({"/bin/sh", "-c", "pwd; echo started; exec sleep 30"}, folder, log, error);
  REQUIRE_MESSAGE(pid.has_value(), error);
  CHECK(ProcessAlive(*pid));
  CHECK(ParentOf(*pid) != ::getpid());
  // Another session: a terminal's Ctrl-C on ferry does not reach it.
  CHECK(::getsid(*pid) != ::getsid(0));
  for (int i = 0; i < 100 && ReadText(log).find("started") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(ReadText(log) == folder + "\nstarted\n");
  // The shell execs sleep right after its echo.
  std::vector<std::string> command = ProcessCommandLine(*pid);
  for (int i = 0; i < 100 && command.size() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    command = ProcessCommandLine(*pid);
  }
  CHECK(command == std::vector<std::string>{"sleep", "30"});
  CHECK(TerminateProcess(*pid, 5000));
  CHECK_FALSE(ProcessAlive(*pid));
  CHECK(ProcessCommandLine(*pid).empty());
  fs::remove_all(folder);
}

TEST_CASE("local process: SpawnDetached and RunAndStream pass on no descriptor of ours") {
  const std::string folder = ScratchFolder("spawn-fds");
  // Opened without O_CLOEXEC, as a lock file held by a library might be.
  const int inherited = ::open(folder.c_str(), O_RDONLY);
  REQUIRE(inherited > 2);
  std::string error;
  const std::optional<pid_t> pid =
      SpawnDetached({"/bin/sh", "-c", "ls /proc/$$/fd; echo done"}, folder, folder + "/log", error);
  REQUIRE_MESSAGE(pid.has_value(), error);
  for (int i = 0; i < 100 && ReadText(folder + "/log").find("done") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(ReadText(folder + "/log") == "0\n1\n2\ndone\n");
  std::vector<std::string> lines;
  CHECK(RunAndStream(
            {"/bin/sh", "-c", "ls /proc/$$/fd"}, folder,
            [&](std::string_view line) { lines.emplace_back(line); }, error) == 0);
  CHECK(lines == std::vector<std::string>{"0", "1", "2"});
  ::close(inherited);
  fs::remove_all(folder);
}

TEST_CASE("local process: SpawnDetached reports a program that cannot run") {
  const std::string folder = ScratchFolder("spawn-missing");
  std::string error;
  CHECK_FALSE(SpawnDetached({folder + "/missing"}, folder, folder + "/log", error).has_value());
  CHECK(error == "cannot execute (" + folder + "/missing): No such file or directory");
  error.clear();
  CHECK_FALSE(SpawnDetached({"/bin/true"}, folder + "/nowhere", folder + "/log", error));
  CHECK(error == "cannot enter the working folder (/bin/true): No such file or directory");
  fs::remove_all(folder);
}

TEST_CASE("local process: PidFileLocked is true exactly while a process holds the file's flock") {
  const std::string folder = ScratchFolder("flock");
  const std::string path = folder + "/router.pid";
  CHECK_FALSE(PidFileLocked(path));  // no file
  std::ofstream(path) << "4242\n";
  CHECK_FALSE(PidFileLocked(path));  // nobody holds it: a dead router's file
  CHECK(ReadPidFile(path) == 4242);
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(path.c_str(), O_RDWR);
    ::flock(fd, LOCK_EX);
    [[maybe_unused]] const ssize_t n = ::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  char byte = 0;
  REQUIRE(::read(ready[0], &byte, 1) == 1);
  CHECK(PidFileLocked(path));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK_FALSE(PidFileLocked(path));
  ::close(ready[0]);
  ::close(ready[1]);
  std::ofstream(path) << "garbage\n";
  CHECK_FALSE(ReadPidFile(path).has_value());
  fs::remove_all(folder);
}

TEST_CASE("local process: RunAndStream hands over every line and the exit code") {
  std::vector<std::string> lines;
  std::string error;
  const int code = RunAndStream(
      {"/bin/sh", "-c", "echo '[ 50%] one'; echo two >&2; printf end; exit 3"}, "/",
      [&](std::string_view line) { lines.emplace_back(line); }, error);
  CHECK(code == 3);
  CHECK(error.empty());
  CHECK(lines == std::vector<std::string>{"[ 50%] one", "two", "end"});
  CHECK(RunAndStream(
            {"/bin/sh", "-c", "kill -9 $$"}, "/", [](std::string_view) {}, error) == 128 + SIGKILL);
}

TEST_CASE("local process: RunAndStream's program dies with the ferry that started it") {
  const std::string folder = ScratchFolder("stream-death");
  const std::string pid_file = folder + "/pid";
  const pid_t ferry = ::fork();
  if (ferry == 0) {
    std::string error;
    RunAndStream(
        {"/bin/sh", "-c",
         "echo $$ > " + pid_file + ".tmp; mv " + pid_file + ".tmp " + pid_file + "; exec sleep 60"},
        folder, [](std::string_view) {}, error);
    ::_exit(0);
  }
  std::optional<pid_t> build;
  for (int i = 0; i < 250 && !build; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    build = ReadPidFile(pid_file);
  }
  REQUIRE(build.has_value());
  CHECK(ProcessAlive(*build));
  ::kill(ferry, SIGKILL);
  ::waitpid(ferry, nullptr, 0);
  for (int i = 0; i < 250 && ProcessAlive(*build); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK_FALSE(ProcessAlive(*build));
  fs::remove_all(folder);
}

TEST_CASE(
    "local secrets: GenerateKey: 32 random bytes as 43 base64url characters, never the same") {
  std::set<std::string> keys;
  for (int i = 0; i < 50; ++i) {
    const std::string key = GenerateKey();
    CHECK(key.size() == 43);
    CHECK(
        key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
        std::string::npos);
    keys.insert(key);
  }
  CHECK(keys.size() == 50);
}

TEST_CASE(
    "local secrets: key files: written 0600 in a 0700 folder, read back, missing ones named") {
  const std::string folder = ScratchFolder("secrets") + "/faq";
  EndpointSecret secret;
  secret.mode = "key";
  secret.primary = "p-key";
  secret.secondary = "s-key";
  std::string error;
  REQUIRE(WriteSecretFolder(folder, secret, error));
  struct stat info {};
  REQUIRE(::stat((folder + "/primary").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  REQUIRE(::stat(folder.c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);
  CHECK(ReadText(folder + "/secondary") == "s-key\n");
  const std::optional<EndpointSecret> back = ReadSecretFolder(folder, "key", error);
  REQUIRE(back.has_value());
  CHECK(back->primary == "p-key");
  CHECK(back->secondary == "s-key");
  CHECK_FALSE(ReadSecretFolder(folder, "token", error).has_value());
  CHECK(error == "no signing-key in " + folder);
  CHECK(SecretFileNames("none").empty());
  fs::remove_all(fs::path(folder).parent_path());
}

}  // namespace
}  // namespace ferry::apply
