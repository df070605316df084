// Structured JSON log lines.
#include "runtime/serve/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include "runtime/json.h"
#include "runtime/serve/http.h"

namespace ferry_rt::serve {
namespace {

auto SystemMillis() -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::string_view kRedacted = "[redacted]";

}  // namespace

auto LogLevelName(LogLevel level) -> std::string_view {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kInfo:
      break;
  }
  return "info";
}

namespace {

void WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // a closed stdout must not stop the server
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

BatchingFdSink::BatchingFdSink(int fd, std::chrono::milliseconds delay, std::size_t max_pending)
    : fd_(fd), delay_(delay), max_pending_(max_pending), thread_([this] { Run(); }) {}

BatchingFdSink::~BatchingFdSink() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void BatchingFdSink::WriteLine(std::string_view line) {
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    if (pending_.size() + line.size() > max_pending_) {
      ++dropped_;
      return;
    }
    first = pending_.empty();
    pending_ += line;
  }
  // Only the first line of a batch wakes the writer; it then waits `delay`.
  if (first) wake_.notify_one();
}

void BatchingFdSink::Flush() { WritePending(); }

void BatchingFdSink::Run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
    if (!stopping_) wake_.wait_for(lock, delay_, [this] { return stopping_; });
    lock.unlock();
    WritePending();
    lock.lock();
    if (stopping_ && pending_.empty()) return;
  }
}

void BatchingFdSink::WritePending() {
  std::lock_guard write_lock(write_mutex_);
  std::string batch;
  std::uint64_t dropped = 0;
  {
    std::lock_guard lock(mutex_);
    batch.swap(pending_);
    dropped = std::exchange(dropped_, 0);
  }
  if (dropped > 0) {
    batch +=
        "{\"ts\":\"" + FormatTimestamp(SystemMillis()) +
        "\",\"level\":\"warn\",\"msg\":\"log lines dropped\",\"count\":" + std::to_string(dropped) +
        "}\n";
  }
  WriteAll(fd_, batch);
}

void FdSink::WriteLine(std::string_view line) {
  std::lock_guard lock(mutex_);
  WriteAll(fd_, line);
}

auto LogField::Str(std::string_view key, std::string_view value) -> LogField {
  return {std::string(key), json::Quote(value)};
}

auto LogField::Int(std::string_view key, std::int64_t value) -> LogField {
  return {std::string(key), std::to_string(value)};
}

auto LogField::Num(std::string_view key, double value) -> LogField {
  return {std::string(key), json::Number(value)};
}

auto LogField::Bool(std::string_view key, bool value) -> LogField {
  return {std::string(key), value ? "true" : "false"};
}

auto FormatTimestamp(std::int64_t ms) -> std::string {
  std::int64_t seconds = ms / 1000;
  std::int64_t millis = ms % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  std::time_t time = static_cast<std::time_t>(seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  char buffer[96];  // room for any int fields, so no truncation is possible
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

auto IsSecretHeader(std::string_view name) -> bool {
  constexpr std::string_view kSecret[] = {"authorization", "proxy-authorization", "cookie",
                                          "set-cookie", "x-api-key"};
  for (std::string_view secret : kSecret) {
    if (http::HeaderNameEquals(name, secret)) return true;
  }
  return false;
}

auto ScrubHeader(std::string_view name, std::string_view value) -> std::string_view {
  return IsSecretHeader(name) ? kRedacted : value;
}

Logger::Logger(LogSink& sink, MillisClock clock, LogLevel min_level)
    : sink_(sink),
      clock_(clock ? std::move(clock) : MillisClock(SystemMillis)),
      min_level_(min_level) {}

auto Logger::Format(LogLevel level, std::string_view msg,
                    std::initializer_list<LogField> fields) const -> std::string {
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"" + FormatTimestamp(clock_()) + "\",\"level\":\"";
  line += LogLevelName(level);
  line += "\",\"msg\":" + json::Quote(msg);
  for (const LogField& field : fields) {
    line += ',' + json::Quote(field.key) + ':';
    line += IsSecretHeader(field.key) ? json::Quote(kRedacted) : field.json;
  }
  line += "}\n";
  return line;
}

void Logger::Log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields) {
  if (level < min_level_) return;
  sink_.WriteLine(Format(level, msg, fields));
  // A warning or an error may be the last line before a crash: out at once.
  if (level >= LogLevel::kWarn) sink_.Flush();
}

void Logger::Info(std::string_view msg, std::initializer_list<LogField> fields) {
  Log(LogLevel::kInfo, msg, fields);
}

void Logger::Warn(std::string_view msg, std::initializer_list<LogField> fields) {
  Log(LogLevel::kWarn, msg, fields);
}

void Logger::Error(std::string_view msg, std::initializer_list<LogField> fields) {
  Log(LogLevel::kError, msg, fields);
}

void Logger::Request(const RequestLogEntry& entry) {
  // The query string is left out: clients put credentials there too.
  std::string_view path = entry.target.substr(0, entry.target.find('?'));
  Log(LogLevel::kInfo, "request",
      {LogField::Str("method", entry.method), LogField::Str("path", path),
       LogField::Int("status", entry.status), LogField::Int("latency_us", entry.latency_us),
       LogField::Int("bytes", entry.bytes), LogField::Str("request_id", entry.request_id),
       LogField::Str("auth", CredentialName(entry.auth))});
}

auto StdoutLogger() -> Logger& {
  static BatchingFdSink sink(STDOUT_FILENO);
  static Logger logger(sink);
  return logger;
}

}  // namespace ferry_rt::serve
