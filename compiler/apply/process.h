// Processes for the local executor: starting a program detached (so it
// outlives `ferry apply`), running a build tool with its output read line by
// line, and the liveness tests that decide whether a recorded process is
// still there (a pid file's flock, /proc). Linux only, as the executor is.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::apply {

/// True when a process holds a lock on `path` (flock(2)): the router holds
/// LOCK_EX on its pid file for its whole life, so this is "the router lives".
/// A missing file or one nobody locks is false.
auto PidFileLocked(const std::string& path) -> bool;

/// The pid written in a pid file ("123\n"), or nullopt.
auto ReadPidFile(const std::string& path) -> std::optional<pid_t>;

/// True while `pid` exists and is not a zombie.
auto ProcessAlive(pid_t pid) -> bool;

/// The command line of `pid` from /proc (empty when it is gone).
auto ProcessCommandLine(pid_t pid) -> std::vector<std::string>;

/// Starts `argv` (argv[0] a path) detached: forked twice with a new session,
/// so it is not our child and outlives us; stdin from /dev/null, stdout and
/// stderr appended to `log_path`, no other file descriptors inherited, in
/// `working_directory`. Returns its pid, or nullopt with `error` set (e.g.
/// the program cannot be executed).
auto SpawnDetached(const std::vector<std::string>& argv, const std::string& working_directory,
                   const std::string& log_path, std::string& error) -> std::optional<pid_t>;

/// Sends SIGTERM to `pid`, waits up to `grace_ms` for it to go, then
/// SIGKILL; true when it is gone.
auto TerminateProcess(pid_t pid, int grace_ms) -> bool;

/// SIGKILLs every process whose working folder is `folder` or inside it (a
/// build left running by a ferry that was killed); returns how many.
auto KillProcessesWorkingIn(const std::string& folder) -> int;

/// Runs `argv` as our child and waits for it, calling `on_line` with each
/// line of its stdout and stderr (merged) as it comes. Returns the exit code
/// (128 + signal when killed), or -1 with `error` set when it cannot start.
auto RunAndStream(const std::vector<std::string>& argv, const std::string& working_directory,
                  const std::function<void(std::string_view line)>& on_line, std::string& error)
    -> int;

}  // namespace ferry::apply
