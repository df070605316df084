// The state file on disk: loading it, saving it atomically, and the lock
// that keeps two ferry processes from changing one project at once.
//
// Saving writes FILE.tmp, fsyncs it, renames it over FILE and fsyncs the
// folder, after copying the previous good FILE to FILE.backup the same way:
// a crash or a full disk at any point leaves FILE (and FILE.backup) whole.
//
// The lock is FILE.lock, a JSON file naming its owner (id, pid, host, user,
// operation, time), held with flock(2) for the owner's life. A lock whose
// owner died on this host is taken over (flock says so, no guessing from
// pids); one held by a live process, or one from another host (a shared
// folder, where flock says nothing), is refused with the owner named, and
// `ferry force-unlock ID` removes it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "compiler/plan/state.h"

namespace ferry::apply {

/// Who holds a lock, as its file records.
struct LockInfo {
  std::string id;  ///< random, what `force-unlock` takes
  long pid = 0;
  std::string host;
  std::string user;
  std::string operation;  ///< "apply", "plan -out", "destroy", "keys --regenerate"
  std::string created;    ///< UTC, ISO 8601
};

class StateStore {
 public:
  /// `path`: the state file, e.g. "<project>/.ferry/state.json".
  explicit StateStore(std::string path);
  ~StateStore();  ///< releases the lock if held
  StateStore(const StateStore&) = delete;
  auto operator=(const StateStore&) -> StateStore& = delete;

  auto path() const -> const std::string& { return path_; }
  auto lock_path() const -> std::string { return path_ + ".lock"; }

  /// Takes the lock for `operation`; false with `error` naming the owner and
  /// what to do. `note` is set when a dead owner's lock was taken over.
  auto Lock(std::string_view operation, std::string& error, std::string& note) -> bool;
  /// Releases the lock (removes the file).
  void Unlock();

  /// Reads the state; a missing file is a fresh, empty state (exists = false).
  /// Errors (unreadable, corrupt, truncated, newer format) leave `error` set.
  auto Load(plan::State& state, bool& exists, std::string& error) const -> bool;

  /// Writes `state` with its serial incremented (a new lineage when it has
  /// none); on failure the file on disk is unchanged and `error` is set.
  auto Save(plan::State& state, std::string& error) -> bool;

 private:
  std::string path_;
  int lock_fd_ = -1;
  std::string lock_id_;
};

/// The lock file's owner, if the file exists and reads.
auto ReadLock(const std::string& lock_path) -> std::optional<LockInfo>;

/// Removes the lock at `lock_path` when its id is `id`; false with `error`
/// otherwise (no lock, another id).
auto ForceUnlock(const std::string& lock_path, std::string_view id, std::string& error) -> bool;

/// Creates `path`'s folder and its parents (0700 for ".ferry" folders).
auto MakeDirectories(const std::string& path, std::string& error) -> bool;

/// Writes `contents` to `path` atomically (temp file, fsync, rename, fsync
/// of the folder) with file mode `mode`.
auto WriteFileAtomically(const std::string& path, std::string_view contents, std::string& error,
                         unsigned mode = 0644) -> bool;

}  // namespace ferry::apply
