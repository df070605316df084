#include "compiler/apply/state_store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "compiler/support/file_system.h"

namespace ferry::apply {
namespace {

auto SystemError(std::string_view what, const std::string& path) -> std::string {
  return std::string(what) + " " + path + ": " + std::strerror(errno);
}

auto RandomHex(std::size_t bytes) -> std::string {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // The CSPRNG failing is no reason to refuse a lock id; pid and time
    // still make it unique on this host.
    raw = std::to_string(getpid()) + std::to_string(std::time(nullptr));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out.substr(0, bytes * 2);
}

auto NowUtc() -> std::string {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  gmtime_r(&now, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

auto HostName() -> std::string {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "unknown";
  return name;
}

auto UserName() -> std::string {
  if (const passwd* entry = getpwuid(geteuid())) return entry->pw_name;
  return std::to_string(geteuid());
}

auto ReadAll(int fd) -> std::string {
  std::string text;
  char buffer[4096];
  lseek(fd, 0, SEEK_SET);
  while (true) {
    const ssize_t got = read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    text.append(buffer, static_cast<std::size_t>(got));
  }
  return text;
}

auto ParseLock(std::string_view text) -> std::optional<LockInfo> {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return std::nullopt;
  LockInfo info;
  info.id = json.value("id", "");
  info.pid = json.value("pid", 0L);
  info.host = json.value("host", "");
  info.user = json.value("user", "");
  info.operation = json.value("operation", "");
  info.created = json.value("created", "");
  if (info.id.empty()) return std::nullopt;
  return info;
}

auto LockJson(const LockInfo& info) -> std::string {
  nlohmann::json json = {{"id", info.id},     {"pid", info.pid},
                         {"host", info.host}, {"user", info.user},
                         {"operation", info.operation}, {"created", info.created}};
  return json.dump(2) + "\n";
}

auto Owner(const LockInfo& info) -> std::string {
  return "pid " + std::to_string(info.pid) + " on " + info.host + " (user " + info.user +
         ", operation '" + info.operation + "', since " + info.created + ", lock ID " + info.id +
         ")";
}

auto FsyncDirectory(const std::string& path) -> bool {
  const std::string folder = support::DirName(path);
  const int fd = open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

}  // namespace

auto MakeDirectories(const std::string& path, std::string& error) -> bool {
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    prefix = path.substr(0, end);
    start = end + 1;
    if (prefix.empty() || prefix == ".") continue;
    const bool private_folder = prefix.ends_with(".ferry") || prefix.find("/.ferry/") !=
                                                                   std::string::npos;
    if (mkdir(prefix.c_str(), private_folder ? 0700 : 0755) != 0 && errno != EEXIST) {
      error = SystemError("cannot create the folder", prefix);
      return false;
    }
    if (slash == std::string::npos) break;
  }
  return true;
}

auto WriteFileAtomically(const std::string& path, std::string_view contents, std::string& error,
                         unsigned mode) -> bool {
  const std::string temporary = path + ".tmp-" + std::to_string(getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    error = SystemError("cannot write", temporary);
    return false;
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = SystemError("cannot write", temporary);
      close(fd);
      unlink(temporary.c_str());
      return false;
    }
    written += static_cast<std::size_t>(n);
  }
  if (fsync(fd) != 0) {
    error = SystemError("cannot sync", temporary);
    close(fd);
    unlink(temporary.c_str());
    return false;
  }
  close(fd);
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    error = SystemError("cannot replace", path);
    unlink(temporary.c_str());
    return false;
  }
  FsyncDirectory(path);
  return true;
}

StateStore::StateStore(std::string path) : path_(std::move(path)) {}

StateStore::~StateStore() { Unlock(); }

auto StateStore::Lock(std::string_view operation, std::string& error, std::string& note) -> bool {
  if (!MakeDirectories(support::DirName(path_), error)) return false;
  const std::string file = lock_path();
  // Open, flock, then check that the file we locked is still the one at
  // `file`: an owner that unlinked it between our open and flock leaves us
  // holding a lock on a deleted inode.
  for (int attempt = 0; attempt < 5; ++attempt) {
    const int fd = open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      error = SystemError("cannot open the lock file", file);
      return false;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const std::optional<LockInfo> owner = ParseLock(ReadAll(fd));
      close(fd);
      error = "the state " + path_ + " is locked by " +
              (owner ? Owner(*owner) : std::string("another ferry process")) +
              ". Wait for it to finish; if that process is gone (e.g. on another machine), run "
              "`ferry force-unlock " + (owner ? owner->id : std::string("ID")) + "`.";
      return false;
    }
    struct stat locked {};
    struct stat current {};
    if (fstat(fd, &locked) != 0 || stat(file.c_str(), &current) != 0 ||
        locked.st_ino != current.st_ino || locked.st_dev != current.st_dev) {
      close(fd);
      continue;
    }
    const std::string previous = ReadAll(fd);
    if (const std::optional<LockInfo> stale = ParseLock(previous)) {
      if (stale->host != HostName()) {
        // flock is meaningless across machines (a shared folder): only a
        // person can say that owner is gone.
        close(fd);
        error = "the state " + path_ + " is locked by " + Owner(*stale) +
                ", another machine. If that apply is no longer running, run `ferry force-unlock " +
                stale->id + "`.";
        return false;
      }
      note = "took over the lock of " + Owner(*stale) + ": that process is no longer running";
    }
    LockInfo mine;
    mine.id = RandomHex(8);
    mine.pid = getpid();
    mine.host = HostName();
    mine.user = UserName();
    mine.operation = std::string(operation);
    mine.created = NowUtc();
    const std::string text = LockJson(mine);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, text.data(), text.size(), 0) !=
                                     static_cast<ssize_t>(text.size())) {
      error = SystemError("cannot write the lock file", file);
      close(fd);
      return false;
    }
    fsync(fd);
    lock_fd_ = fd;
    lock_id_ = mine.id;
    return true;
  }
  error = "cannot take the lock " + file + ": it keeps being replaced; is another ferry running?";
  return false;
}

void StateStore::Unlock() {
  if (lock_fd_ < 0) return;
  // Only remove the file if it is still ours (force-unlock may have removed it).
  if (const std::optional<LockInfo> current = ReadLock(lock_path());
      current && current->id == lock_id_) {
    unlink(lock_path().c_str());
  }
  close(lock_fd_);
  lock_fd_ = -1;
  lock_id_.clear();
}

auto StateStore::Load(plan::State& state, bool& exists, std::string& error) const -> bool {
  std::ifstream in(path_, std::ios::binary);
  state = plan::State{};
  if (!in) {
    struct stat info {};
    exists = stat(path_.c_str(), &info) == 0;
    if (exists) {
      error = SystemError("cannot read the state", path_);
      return false;
    }
    return true;
  }
  exists = true;
  std::ostringstream text;
  text << in.rdbuf();
  if (const std::optional<plan::StateError> problem = plan::ParseState(text.str(), path_, state)) {
    error = problem->ToString();
    return false;
  }
  return true;
}

auto StateStore::Save(plan::State& state, std::string& error) -> bool {
  if (!MakeDirectories(support::DirName(path_), error)) return false;
  if (state.lineage.empty()) state.lineage = RandomHex(16);
  state.ferry_version = std::string(plan::kFerryVersion);
  state.serial += 1;
  // Keep the last good state beside the new one: a state file damaged later
  // (a disk error, a hand edit) can be recovered from FILE.backup.
  std::ifstream previous(path_, std::ios::binary);
  if (previous) {
    std::ostringstream text;
    text << previous.rdbuf();
    plan::State parsed;
    if (!plan::ParseState(text.str(), path_, parsed)) {
      std::string ignored;
      WriteFileAtomically(path_ + ".backup", text.str(), ignored, 0600);
    }
  }
  if (!WriteFileAtomically(path_, plan::SerializeState(state), error, 0600)) {
    state.serial -= 1;
    return false;
  }
  return true;
}

auto ReadLock(const std::string& lock_path) -> std::optional<LockInfo> {
  std::ifstream in(lock_path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return ParseLock(text.str());
}

auto ForceUnlock(const std::string& lock_path, std::string_view id, std::string& error) -> bool {
  const std::optional<LockInfo> owner = ReadLock(lock_path);
  if (!owner) {
    error = "there is no lock at " + lock_path + " (nothing to unlock)";
    return false;
  }
  if (owner->id != id) {
    error = "the lock at " + lock_path + " has ID " + owner->id + ", not " + std::string(id) +
            " (held by " + Owner(*owner) + ")";
    return false;
  }
  if (unlink(lock_path.c_str()) != 0) {
    error = SystemError("cannot remove", lock_path);
    return false;
  }
  return true;
}

}  // namespace ferry::apply
