// Structured logs: one JSON object per line on stdout ({"ts", "level", "msg",
// then the fields in the order given}), written whole, so lines from
// concurrent requests never interleave. Stdout's lines are written in batches
// by a thread of their own (BatchingFdSink); warnings and errors at once. Credentials never reach a
// line: fields named after credential-carrying headers are redacted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "runtime/serve/auth.h"

namespace ferry_rt::serve {

/// Severity of a log line.
enum class LogLevel { kDebug, kInfo, kWarn, kError };

/// "debug", "info", "warn" or "error".
auto LogLevelName(LogLevel level) -> std::string_view;

/// Where finished lines go; tests capture them.
class LogSink {
 public:
  virtual ~LogSink() = default;
  /// Writes one complete line (it ends with '\n'). Called concurrently.
  virtual void WriteLine(std::string_view line) = 0;
  /// Returns once every line written so far has left the process.
  virtual void Flush() {}
};

/// Writes lines to a file descriptor with one write() each (retrying a short write).
class FdSink : public LogSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}
  void WriteLine(std::string_view line) override;

 private:
  int fd_;
  std::mutex mutex_;  // a short write's retry must not interleave with another line
};

/// Writes lines to a file descriptor in batches from a thread of its own: a
/// line leaves at most `delay` after it was written, or at once on Flush. A
/// write per request line was one of the seven system calls a scored request
/// made (strace -c on bin/serve under wrk); batched, it is one per `delay`.
/// Past `max_pending` bytes not yet written (a stdout nobody reads), lines are
/// dropped rather than blocking the server, and a line says how many.
class BatchingFdSink : public LogSink {
 public:
  explicit BatchingFdSink(int fd, std::chrono::milliseconds delay = std::chrono::milliseconds(20),
                          std::size_t max_pending = std::size_t{8} << 20);
  /// Writes what is pending and stops the thread.
  ~BatchingFdSink() override;
  BatchingFdSink(const BatchingFdSink&) = delete;
  auto operator=(const BatchingFdSink&) -> BatchingFdSink& = delete;

  void WriteLine(std::string_view line) override;
  void Flush() override;

 private:
  void Run();
  void WritePending();

  int fd_;
  std::chrono::milliseconds delay_;
  std::size_t max_pending_;
  std::mutex mutex_;  // guards pending_, dropped_, stopping_
  std::condition_variable wake_;
  std::string pending_;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::mutex write_mutex_;  // one batch at a time, so lines keep their order
  std::thread thread_;
};

/// One `"key": value` pair of a line; the value is already JSON.
struct LogField {
  std::string key;
  std::string json;

  /// A string field (quoted and escaped).
  static auto Str(std::string_view key, std::string_view value) -> LogField;
  /// An integer field.
  static auto Int(std::string_view key, std::int64_t value) -> LogField;
  /// A number field (shortest round-trip form; NaN and infinities become null).
  static auto Num(std::string_view key, double value) -> LogField;
  /// A boolean field.
  static auto Bool(std::string_view key, bool value) -> LogField;
};

/// Milliseconds since the Unix epoch; injected so tests get fixed timestamps.
using MillisClock = std::function<std::int64_t()>;

/// `ms` since the epoch as RFC 3339 UTC with milliseconds: 2026-11-23T07:53:44.123Z.
auto FormatTimestamp(std::int64_t ms) -> std::string;

/// True for headers whose values are credentials (Authorization,
/// Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key), in any case.
auto IsSecretHeader(std::string_view name) -> bool;

/// `value`, or "[redacted]" when `name` is a secret header: the one way
/// request headers may reach a log line.
auto ScrubHeader(std::string_view name, std::string_view value) -> std::string_view;

/// What one request's log line says.
struct RequestLogEntry {
  std::string_view method;
  std::string_view target;  ///< the request target; only the path (before '?') is logged
  int status = 0;
  std::int64_t latency_us = 0;
  std::int64_t bytes = 0;  ///< response body bytes
  std::string_view request_id;
  Credential auth = Credential::kNone;
};

/// Formats and writes structured lines. Thread-safe.
class Logger {
 public:
  /// Lines go to `sink` (which must outlive the logger), stamped by `clock`
  /// (empty: the system clock), dropping those below `min_level`.
  explicit Logger(LogSink& sink, MillisClock clock = {}, LogLevel min_level = LogLevel::kInfo);

  /// Writes one line. A field whose key is a secret header's name (see
  /// IsSecretHeader) is written as "[redacted]".
  void Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {});
  /// Log at info.
  void Info(std::string_view msg, std::initializer_list<LogField> fields = {});
  /// Log at warn.
  void Warn(std::string_view msg, std::initializer_list<LogField> fields = {});
  /// Log at error.
  void Error(std::string_view msg, std::initializer_list<LogField> fields = {});

  /// The request line: msg "request" with method, path, status, latency_us,
  /// bytes, request_id and auth.
  void Request(const RequestLogEntry& entry);

  /// The line Log would write (with its '\n'), for tests and other sinks.
  auto Format(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) const
      -> std::string;

 private:
  LogSink& sink_;
  MillisClock clock_;
  LogLevel min_level_;
};

/// The process-wide logger writing to stdout (fd 1) through a BatchingFdSink.
auto StdoutLogger() -> Logger&;

}  // namespace ferry_rt::serve
