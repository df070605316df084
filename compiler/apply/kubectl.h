// Running kubectl: one command line, text on stdin, stdout and stderr
// captured, an exit code, a time limit. Behind a small interface so that the
// Kubernetes executor's tests can check the exact argv with a fake.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::apply {

/// What one kubectl run gave.
struct KubectlResult {
  int exit_code = -1;      ///< -1: it did not run, or was killed
  bool timed_out = false;  ///< killed at the time limit
  std::string out;         ///< stdout
  std::string err;         ///< stderr, or why it could not start

  auto ok() const -> bool { return exit_code == 0 && !timed_out; }
};

/// Runs one command line; the real one spawns a process, tests fake it.
class KubectlRunner {
 public:
  virtual ~KubectlRunner() = default;
  /// Runs `argv` (argv[0] is the program, found on PATH when it has no '/')
  /// with `input` on stdin; kills it (and its process group) after `timeout`.
  virtual auto Run(const std::vector<std::string>& argv, std::string_view input,
                   std::chrono::milliseconds timeout) -> KubectlResult = 0;
};

/// The runner that spawns real processes (fork/exec, pipes, poll).
auto MakeProcessRunner() -> std::unique_ptr<KubectlRunner>;

/// kubectl with fixed global flags: the program, --kubeconfig, and (per call)
/// --context. Builds argv as "<program> [--kubeconfig K] [--context C] ARGS...".
class Kubectl {
 public:
  Kubectl(KubectlRunner& runner, std::string program, std::string kubeconfig,
          std::chrono::milliseconds timeout)
      : runner_(runner),
        program_(std::move(program)),
        kubeconfig_(std::move(kubeconfig)),
        timeout_(timeout) {}

  /// The full argv for `args` on kubeconfig context `context` (empty: the current one).
  auto Argv(std::string_view context, const std::vector<std::string>& args) const
      -> std::vector<std::string>;
  /// Runs `args` with `input` on stdin under the default time limit.
  auto Run(std::string_view context, const std::vector<std::string>& args,
           std::string_view input = {}) const -> KubectlResult;

 private:
  KubectlRunner& runner_;
  std::string program_;
  std::string kubeconfig_;
  std::chrono::milliseconds timeout_;
};

/// The first line of kubectl's stderr that says something (the version-skew
/// warning and other "WARNING:"/"Warning:" lines skipped), trimmed; a
/// generic text when there is none.
auto KubectlErrorLine(const KubectlResult& result) -> std::string;

/// Whether kubectl's stderr says the object does not exist.
auto IsNotFound(const KubectlResult& result) -> bool;

}  // namespace ferry::apply
