// The collection writer thread, its bounded queue and file rotation.
#include "runtime/serve/collect.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <vector>

#include "runtime/json.h"

namespace ferry_rt::serve {
namespace {

namespace fs = std::filesystem;

// n of "<prefix>-<n>.jsonl", or nullopt for other names.
auto IndexOf(const std::string& name, const std::string& prefix) -> std::optional<std::uint64_t> {
  constexpr std::string_view kSuffix = ".jsonl";
  if (name.size() <= prefix.size() + 1 + kSuffix.size() || name.compare(0, prefix.size(), prefix) ||
      name[prefix.size()] != '-' || !name.ends_with(kSuffix)) {
    return std::nullopt;
  }
  std::string digits =
      name.substr(prefix.size() + 1, name.size() - prefix.size() - 1 - kSuffix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

auto Indices(const std::string& directory, const std::string& prefix)
    -> std::vector<std::uint64_t> {
  std::vector<std::uint64_t> indices;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    if (auto n = IndexOf(entry.path().filename().string(), prefix)) indices.push_back(*n);
  }
  return indices;
}

auto SystemMillis() -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A JSON text on one line: raw newlines can only be whitespace between tokens
// (inside strings they must be escaped), so they become spaces.
auto OneLine(const std::string& json_text) -> std::string {
  if (json_text.empty()) return "null";
  std::string out = json_text;
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return out;
}

}  // namespace

auto Collector::Open(CollectOptions options, std::string* error) -> std::unique_ptr<Collector> {
  if (options.directory.empty()) {
    *error = "--collect-dir needs a directory";
    return nullptr;
  }
  std::error_code code;
  fs::create_directories(options.directory, code);
  if (code || ::access(options.directory.c_str(), W_OK) != 0) {
    *error = "cannot write to collection directory " + options.directory +
             (code ? ": " + code.message() : std::string(": ") + std::strerror(errno));
    return nullptr;
  }
  if (options.max_files < 1) options.max_files = 1;
  if (!options.clock) options.clock = SystemMillis;
  // Each start begins a new file after the newest one already there.
  std::uint64_t first = 1;
  for (std::uint64_t n : Indices(options.directory, options.prefix)) first = std::max(first, n + 1);
  return std::unique_ptr<Collector>(new Collector(std::move(options), first));
}

Collector::Collector(CollectOptions options, std::uint64_t first_index)
    : options_(std::move(options)), index_(first_index) {
  writer_ = std::thread([this] { Run(); });
}

Collector::~Collector() { Close(); }

auto Collector::PathOf(std::uint64_t n) const -> std::string {
  return options_.directory + "/" + options_.prefix + "-" + std::to_string(n) + ".jsonl";
}

auto Collector::dropped() const -> std::uint64_t { return dropped_.load(); }

void Collector::Drop(std::uint64_t count) {
  dropped_.fetch_add(count);
  if (options_.dropped != nullptr) options_.dropped->Inc(count);
}

auto Collector::Submit(CollectRecord record) -> bool {
  std::int64_t ts = options_.clock();
  std::unique_lock lock(mutex_);
  if (closing_ || queue_.size() >= options_.queue_capacity) {
    lock.unlock();
    Drop(1);
    return false;
  }
  queue_.push_back(Pending{ts, std::move(record)});
  lock.unlock();
  wake_.notify_one();
  return true;
}

void Collector::Close() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
}

void Collector::Run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) break;  // closing, and everything is written
    }
    if (options_.before_batch) options_.before_batch();
    std::deque<Pending> batch;
    {
      std::lock_guard lock(mutex_);
      batch.swap(queue_);
    }
    for (const Pending& pending : batch) {
      const CollectRecord& record = pending.record;
      WriteLine("{\"ts\":\"" + FormatTimestamp(pending.ts) + "\",\"request_id\":" +
                json::Quote(record.request_id) + ",\"model\":" + json::Quote(record.model) +
                ",\"inputs\":" + OneLine(record.inputs) +
                ",\"outputs\":" + OneLine(record.outputs) + "}\n");
    }
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Collector::Rotate() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ++index_;
  file_bytes_ = 0;
}

void Collector::WriteLine(const std::string& line) {
  if (fd_ >= 0 && file_bytes_ > 0 && file_bytes_ + line.size() > options_.max_file_bytes) Rotate();
  if (fd_ < 0) {
    fd_ = ::open(PathOf(index_).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      if (!reported_error_ && options_.log != nullptr) {
        options_.log->Error(
            "cannot open collection file",
            {LogField::Str("path", PathOf(index_)), LogField::Str("error", std::strerror(errno))});
      }
      reported_error_ = true;
      Drop(1);
      return;
    }
    // Keep the newest max_files files, this one included.
    for (std::uint64_t n : Indices(options_.directory, options_.prefix)) {
      if (n + static_cast<std::uint64_t>(options_.max_files) <= index_) {
        std::error_code ignored;
        fs::remove(PathOf(n), ignored);
      }
    }
  }
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t written = ::write(fd_, rest.data(), rest.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      if (!reported_error_ && options_.log != nullptr) {
        options_.log->Error(
            "cannot write collection file",
            {LogField::Str("path", PathOf(index_)), LogField::Str("error", std::strerror(errno))});
      }
      reported_error_ = true;
      Drop(1);
      return;
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  file_bytes_ += line.size();
}

}  // namespace ferry_rt::serve
