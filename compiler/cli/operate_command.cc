// The commands that look at or operate a running project, through its state
// and executor: `ferry status`, `logs`, `keys`, `token` and `force-unlock`.
#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "compiler/apply/apply.h"
#include "compiler/apply/secrets.h"
#include "compiler/apply/state_store.h"
#include "compiler/cli/args.h"
#include "compiler/cli/commands.h"
#include "compiler/cli/front_end.h"
#include "compiler/cli/project_session.h"
#include "compiler/driver/compile.h"
#include "runtime/serve/auth.h"

namespace ferry::cli {
namespace {

const OptionSpec kStatusOptions[] = {
    {"--executor", {"local", "kubernetes"}},
    {"--format", {"text", "json"}},
};
const OptionSpec kLogsOptions[] = {
    {"--executor", {"local", "kubernetes"}},
    {"--tail", {}, /*any_value=*/true},
};
const OptionSpec kKeysOptions[] = {
    {"--executor", {"local", "kubernetes"}},
    {"--regenerate", {"primary", "secondary"}},
};
const OptionSpec kTokenOptions[] = {
    {"--executor", {"local", "kubernetes"}},
    {"--ttl", {}, /*any_value=*/true},
};
const OptionSpec kUnlockOptions[] = {
    {"--executor", {"local", "kubernetes"}},
};

// An operated project: its paths, its recorded state and its executor.
struct Operated {
  apply::ProjectPaths paths;
  plan::ExecutorKind kind = plan::ExecutorKind::Local;
  plan::State state;
  std::unique_ptr<apply::Executor> executor;
};

// PATH is the positional at `index` (default ./ferry.yaml); the state must
// exist: operating a project that was never applied is an error.
auto OpenOperated(const ParsedArgs& parsed, std::size_t index, const Io& io,
                  std::string_view command) -> std::optional<Operated> {
  Operated operated;
  operated.kind = ExecutorOption(parsed);
  const std::string manifest =
      driver::ManifestPath(parsed.positionals.size() > index ? parsed.positionals[index] : "");
  operated.paths = apply::PathsFor(manifest, operated.kind);
  apply::StateStore store(apply::StatePath(operated.paths, operated.kind));
  bool exists = false;
  std::string error;
  if (!store.Load(operated.state, exists, error)) {
    io.err << "ferry " << command << ": " << error << "\n";
    return std::nullopt;
  }
  if (!exists) {
    io.err << "ferry " << command << ": " << manifest << " has not been applied with the "
           << plan::ToString(operated.kind) << " executor (no " << store.path()
           << "); run `ferry apply` first\n";
    return std::nullopt;
  }
  operated.executor = apply::MakeExecutor(operated.kind);
  return operated;
}

auto StatusJson(const plan::State& state, const std::vector<apply::EndpointStatus>& endpoints)
    -> std::string {
  nlohmann::ordered_json json;
  json["project"] = state.project;
  json["executor"] = state.executor;
  json["serial"] = state.serial;
  json["endpoints"] = nlohmann::ordered_json::array();
  for (const apply::EndpointStatus& endpoint : endpoints) {
    nlohmann::ordered_json entry;
    entry["name"] = endpoint.name;
    entry["scoring_uri"] = endpoint.scoring_uri;
    entry["swagger_uri"] = endpoint.swagger_uri;
    entry["auth"] = endpoint.auth;
    entry["healthy"] = endpoint.healthy;
    entry["versions"] = nlohmann::ordered_json::array();
    for (const apply::VersionStatus& version : endpoint.versions) {
      nlohmann::ordered_json row;
      row["name"] = version.name;
      row["traffic"] = version.weight;
      row["default"] = version.is_default;
      row["role"] = version.role;
      row["revision"] = version.revision;
      row["replicas"] = nlohmann::ordered_json::array();
      for (const apply::ReplicaStatus& replica : version.replicas) {
        row["replicas"].push_back(
            {{"name", replica.name}, {"ready", replica.ready}, {"detail", replica.detail}});
      }
      entry["versions"].push_back(std::move(row));
    }
    json["endpoints"].push_back(std::move(entry));
  }
  return json.dump(2) + "\n";
}

auto StatusText(const plan::State& state, const std::vector<apply::EndpointStatus>& endpoints)
    -> std::string {
  std::string text = fmt::format("project {} (executor {}, state serial {})\n", state.project,
                                 state.executor, state.serial);
  if (endpoints.empty()) text += "  no endpoints are running\n";
  for (const apply::EndpointStatus& endpoint : endpoints) {
    text += fmt::format("\nendpoint {}: {}\n  scoring URI  {}\n  swagger URI  {}\n  auth         {}\n",
                        endpoint.name, endpoint.healthy ? "healthy" : "NOT READY",
                        endpoint.scoring_uri, endpoint.swagger_uri, endpoint.auth);
    for (const apply::VersionStatus& version : endpoint.versions) {
      std::size_t ready = 0;
      for (const apply::ReplicaStatus& replica : version.replicas) ready += replica.ready ? 1 : 0;
      text += fmt::format("  version {:<10} {:>6}%{}{}  revision {}  replicas {}/{} ready\n",
                          version.name, fmt::format("{:g}", version.weight),
                          version.is_default ? " default" : "",
                          version.role.empty() ? "" : " " + version.role, version.revision, ready,
                          version.replicas.size());
      for (const apply::ReplicaStatus& replica : version.replicas) {
        text += fmt::format("    {:<24} {:<9} {}\n", replica.name,
                            replica.ready ? "ready" : "not ready", replica.detail);
      }
    }
  }
  return text;
}

}  // namespace

auto RunStatus(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kStatusOptions);
  if (!parsed.error.empty()) return UsageError(io, "status", parsed.error);
  if (parsed.positionals.size() > 1) return UsageError(io, "status", "expected at most one PATH");
  std::optional<Operated> operated = OpenOperated(parsed, 0, io, "status");
  if (!operated) return kExitFailure;
  std::string error;
  const std::vector<apply::EndpointStatus> endpoints =
      operated->executor->Status(operated->state, operated->paths, error);
  if (!error.empty()) {
    io.err << "ferry status: " << error << "\n";
    return kExitFailure;
  }
  io.out << (parsed.Value("--format", "text") == "json" ? StatusJson(operated->state, endpoints)
                                                        : StatusText(operated->state, endpoints));
  return kExitOk;
}

auto RunLogs(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kLogsOptions);
  if (!parsed.error.empty()) return UsageError(io, "logs", parsed.error);
  if (parsed.positionals.empty() || parsed.positionals.size() > 2) {
    return UsageError(io, "logs", "expected ENDPOINT[/VERSION] and at most one PATH");
  }
  const std::string& target = parsed.positionals[0];
  const std::size_t slash = target.find('/');
  const std::string endpoint = target.substr(0, slash);
  const std::string version = slash == std::string::npos ? "" : target.substr(slash + 1);
  const std::string tail_text = parsed.Value("--tail", "100");
  char* end = nullptr;
  const long tail = std::strtol(tail_text.c_str(), &end, 10);
  if (tail_text.empty() || *end != '\0' || tail <= 0) {
    return UsageError(io, "logs", "--tail takes a positive number of lines");
  }
  std::optional<Operated> operated = OpenOperated(parsed, 1, io, "logs");
  if (!operated) return kExitFailure;
  std::string error;
  const std::string text = operated->executor->Logs(operated->state, operated->paths, endpoint,
                                                    version, static_cast<std::size_t>(tail), error);
  if (!error.empty()) {
    io.err << "ferry logs: " << error << "\n";
    return kExitFailure;
  }
  io.out << text;
  return kExitOk;
}

auto RunKeys(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kKeysOptions);
  if (!parsed.error.empty()) return UsageError(io, "keys", parsed.error);
  if (parsed.positionals.empty() || parsed.positionals.size() > 2) {
    return UsageError(io, "keys", "expected ENDPOINT and at most one PATH");
  }
  const std::string& endpoint = parsed.positionals[0];
  std::optional<Operated> operated = OpenOperated(parsed, 1, io, "keys");
  if (!operated) return kExitFailure;
  std::string error;
  std::optional<apply::EndpointSecret> secret =
      operated->executor->ReadSecret(operated->state, operated->paths, endpoint, error);
  if (!secret) {
    io.err << "ferry keys: " << error << "\n";
    return kExitFailure;
  }
  if (secret->mode != "key") {
    io.err << "ferry keys: endpoint '" << endpoint << "' uses " << secret->mode
           << " auth, which has no keys; `ferry token " << endpoint << "` gives a token\n";
    return kExitFailure;
  }
  if (const std::string slot = parsed.Value("--regenerate", ""); !slot.empty()) {
    // Regenerating changes what runs: under the lock, like apply.
    apply::StateStore store(apply::StatePath(operated->paths, operated->kind));
    std::string note;
    if (!store.Lock("keys --regenerate", error, note)) {
      io.err << "ferry keys: " << error << "\n";
      return kExitFailure;
    }
    (slot == "primary" ? secret->primary : secret->secondary) = apply::GenerateKey();
    if (!operated->executor->WriteSecret(operated->state, operated->paths, endpoint, *secret,
                                         error)) {
      io.err << "ferry keys: " << error << "\n";
      return kExitFailure;
    }
    io.err << "Regenerated the " << slot << " key of '" << endpoint
           << "'; the old one stops working within a second.\n";
  }
  io.out << "primary: " << secret->primary << "\nsecondary: " << secret->secondary << "\n";
  return kExitOk;
}

auto RunToken(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kTokenOptions);
  if (!parsed.error.empty()) return UsageError(io, "token", parsed.error);
  if (parsed.positionals.empty() || parsed.positionals.size() > 2) {
    return UsageError(io, "token", "expected ENDPOINT and at most one PATH");
  }
  const std::string ttl_text = parsed.Value("--ttl", "3600");
  char* end = nullptr;
  const long ttl = std::strtol(ttl_text.c_str(), &end, 10);
  if (ttl_text.empty() || *end != '\0' || ttl <= 0) {
    return UsageError(io, "token", "--ttl takes a positive number of seconds");
  }
  const std::string& endpoint = parsed.positionals[0];
  std::optional<Operated> operated = OpenOperated(parsed, 1, io, "token");
  if (!operated) return kExitFailure;
  std::string error;
  std::optional<apply::EndpointSecret> secret =
      operated->executor->ReadSecret(operated->state, operated->paths, endpoint, error);
  if (!secret) {
    io.err << "ferry token: " << error << "\n";
    return kExitFailure;
  }
  if (secret->mode != "token") {
    io.err << "ferry token: endpoint '" << endpoint << "' uses " << secret->mode
           << " auth; tokens are for endpoints with `auth: token` (`ferry keys " << endpoint
           << "` gives its keys)\n";
    return kExitFailure;
  }
  // As the seeds' service: the token carries its expiry and when to refresh
  // it (half way), and names the endpoint it is for.
  const std::int64_t now = std::time(nullptr);
  ferry_rt::serve::TokenClaims claims;
  claims.exp = now + ttl;
  claims.refresh_by = now + ttl / 2;
  claims.aud = endpoint;
  nlohmann::ordered_json json;
  json["accessToken"] = ferry_rt::serve::SignToken(secret->signing_key, claims);
  json["tokenType"] = "Bearer";
  json["expiryOn"] = claims.exp;
  json["refreshAfter"] = *claims.refresh_by;
  io.out << json.dump(2) << "\n";
  return kExitOk;
}

auto RunForceUnlock(std::span<const std::string> args, const Io& io) -> int {
  ParsedArgs parsed = ParseArgs(args, kUnlockOptions);
  if (!parsed.error.empty()) return UsageError(io, "force-unlock", parsed.error);
  if (parsed.positionals.empty() || parsed.positionals.size() > 2) {
    return UsageError(io, "force-unlock", "expected ID and at most one PATH");
  }
  const plan::ExecutorKind kind = ExecutorOption(parsed);
  const std::string manifest =
      driver::ManifestPath(parsed.positionals.size() > 1 ? parsed.positionals[1] : "");
  const apply::ProjectPaths paths = apply::PathsFor(manifest, kind);
  const std::string lock = apply::StatePath(paths, kind) + ".lock";
  std::string error;
  if (!apply::ForceUnlock(lock, parsed.positionals[0], error)) {
    io.err << "ferry force-unlock: " << error << "\n";
    return kExitFailure;
  }
  io.out << "Removed the lock " << parsed.positionals[0] << " (" << lock
         << "). If its owner is still running, two applies may now interleave: make sure it is "
            "not.\n";
  return kExitOk;
}

}  // namespace ferry::cli
