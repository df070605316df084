// The state file on disk: atomic saves with a backup, refusing bad files,
// and the lock (refused while held, taken over from a dead owner on this
// host, force-unlocked by ID).
#include "compiler/apply/state_store.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/runtime/serve/scratch_dir.h"

namespace ferry::apply {
namespace {

using serve_test::ReadFile;
using serve_test::ScratchDir;
using serve_test::WriteFile;

auto OneResource() -> plan::State {
  plan::State state;
  state.project = "faq-matching";
  state.executor = "local";
  plan::ResourceState router;
  router.address = "router";
  router.type = "router";
  router.hash = std::string(64, 'a');
  router.attributes["host"] = "\"127.0.0.1\"";
  router.live["pid"] = "42";
  state.Put(router);
  return state;
}

auto HostName() -> std::string {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

TEST_CASE("state store: a missing file is an empty state; saves count serials and keep a backup") {
  ScratchDir dir;
  StateStore store(dir / ".ferry/state.json");
  plan::State state;
  bool exists = true;
  std::string error;
  REQUIRE(store.Load(state, exists, error));
  CHECK_FALSE(exists);
  CHECK(state.resources.empty());

  state = OneResource();
  REQUIRE(store.Save(state, error));
  CHECK(state.serial == 1);
  CHECK(state.lineage.size() == 32);
  const std::string lineage = state.lineage;
  struct stat info {};
  REQUIRE(stat((dir / ".ferry").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0700);  // keys live below it

  state.Remove("router");
  REQUIRE(store.Save(state, error));
  plan::State loaded;
  REQUIRE(store.Load(loaded, exists, error));
  CHECK(exists);
  CHECK(loaded.serial == 2);
  CHECK(loaded.lineage == lineage);
  CHECK(loaded.resources.empty());
  // The backup is the previous good state.
  plan::State backup;
  REQUIRE_FALSE(plan::ParseState(ReadFile(dir / ".ferry/state.json.backup"), "backup", backup));
  CHECK(backup.serial == 1);
  CHECK(backup.Find("router") != nullptr);
}

TEST_CASE("state store: a corrupt state is an error and is never overwritten by a failed save") {
  ScratchDir dir;
  REQUIRE(mkdir((dir / ".ferry").c_str(), 0700) == 0);
  WriteFile(dir / ".ferry/state.json", "{\"format\": 1, \"resources\": [");
  StateStore store(dir / ".ferry/state.json");
  plan::State state;
  bool exists = false;
  std::string error;
  CHECK_FALSE(store.Load(state, exists, error));
  CHECK(error.find("state.json") != std::string::npos);

  // A save that cannot happen (its folder is a file) leaves the old file.
  ScratchDir other;
  WriteFile(other / "blocker", "not a folder");
  StateStore blocked(other / "blocker/state.json");
  plan::State fresh = OneResource();
  CHECK_FALSE(blocked.Save(fresh, error));
  CHECK(fresh.serial == 0);
  CHECK(ReadFile(other / "blocker") == "not a folder");
}

TEST_CASE("state store: a held lock is refused, naming its owner and the force-unlock ID") {
  ScratchDir dir;
  StateStore first(dir / ".ferry/state.json");
  StateStore second(dir / ".ferry/state.json");
  std::string error;
  std::string note;
  REQUIRE(first.Lock("apply", error, note));
  CHECK(note.empty());
  const std::optional<LockInfo> owner = ReadLock(first.lock_path());
  REQUIRE(owner);
  CHECK(owner->pid == getpid());
  CHECK(owner->operation == "apply");

  // flock conflicts between two open files even in one process.
  CHECK_FALSE(second.Lock("plan -out", error, note));
  CHECK(error.find("pid " + std::to_string(getpid())) != std::string::npos);
  CHECK(error.find("ferry force-unlock " + owner->id) != std::string::npos);

  first.Unlock();
  CHECK(access(first.lock_path().c_str(), F_OK) != 0);
  CHECK(second.Lock("plan -out", error, note));
}

TEST_CASE("state store: a dead owner's lock on this host is taken over, another host's is not") {
  ScratchDir dir;
  REQUIRE(mkdir((dir / ".ferry").c_str(), 0700) == 0);
  const std::string lock = dir / ".ferry/state.json.lock";
  WriteFile(lock, "{\"id\": \"deadbeef\", \"pid\": 999999, \"host\": \"" + HostName() +
                      "\", \"user\": \"ci\", \"operation\": \"apply\", \"created\": "
                      "\"2026-11-23T10:00:00Z\"}");
  StateStore store(dir / ".ferry/state.json");
  std::string error;
  std::string note;
  REQUIRE(store.Lock("apply", error, note));
  CHECK(note.find("pid 999999") != std::string::npos);
  CHECK(note.find("no longer running") != std::string::npos);
  store.Unlock();

  WriteFile(lock, "{\"id\": \"cafe0001\", \"pid\": 17, \"host\": \"build-agent-7\", \"user\": "
                  "\"ci\", \"operation\": \"apply\", \"created\": \"2026-11-23T10:00:00Z\"}");
  CHECK_FALSE(store.Lock("apply", error, note));
  CHECK(error.find("build-agent-7") != std::string::npos);
  CHECK(error.find("ferry force-unlock cafe0001") != std::string::npos);

  CHECK_FALSE(ForceUnlock(lock, "wrong", error));
  CHECK(error.find("cafe0001") != std::string::npos);
  REQUIRE(ForceUnlock(lock, "cafe0001", error));
  CHECK(access(lock.c_str(), F_OK) != 0);
  CHECK_FALSE(ForceUnlock(lock, "cafe0001", error));
  CHECK(store.Lock("apply", error, note));
}

TEST_CASE("state store: atomic writes replace the whole file with its mode") {
  ScratchDir dir;
  std::string error;
  REQUIRE(WriteFileAtomically(dir / "secret", "one", error, 0600));
  REQUIRE(WriteFileAtomically(dir / "secret", "two", error, 0600));
  CHECK(ReadFile(dir / "secret") == "two");
  struct stat info {};
  REQUIRE(stat((dir / "secret").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0600);
  CHECK_FALSE(WriteFileAtomically(dir / "missing/secret", "x", error));
  CHECK(error.find("missing") != std::string::npos);
}

}  // namespace
}  // namespace ferry::apply
