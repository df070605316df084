#include "router/status.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "runtime/json.h"

namespace ferry::router {
namespace {

using ferry_rt::json::Quote;

auto Bool(bool value) -> std::string { return value ? "true" : "false"; }

// A weight as a JSON number that reads as one: 100.0, 12.5.
auto Weight(double weight) -> std::string {
  if (!std::isfinite(weight)) return "0.0";
  char buffer[64];
  if (weight == std::floor(weight) && std::fabs(weight) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.1f", weight);
    return buffer;
  }
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, weight);
  return error == std::errc() ? std::string(buffer, end) : "0.0";
}

auto Replicas(const ReplicaSet& set) -> std::string {
  std::string text = "[";
  for (const ReplicaStatus& replica : set.Status()) {
    if (text.size() > 1) text += ", ";
    text += "{\"log\": " + Quote(replica.log) + ", \"pid\": " + std::to_string(replica.pid) +
            ", \"port\": " + std::to_string(replica.port) + ", \"ready\": " + Bool(replica.ready) +
            ", \"slot\": " + std::to_string(replica.slot) + "}";
  }
  return text + "]";
}

auto Version(const FleetVersion& version) -> std::string {
  // While rolling, the routes' revision is the starting one and the serving
  // one is "previous": the counts and replicas are the routes' revision's.
  const RevisionReplicas& current = version.starting ? *version.starting : *version.serving;
  const std::string previous = version.starting ? version.serving->revision : "";
  const VersionRoute& route = version.route;
  return "{\"default\": " + Bool(route.is_default) +
         ", \"desired\": " + std::to_string(current.replicas->Desired()) +
         ", \"name\": " + Quote(route.name) + ", \"previous_revision\": " + Quote(previous) +
         ", \"ready\": " + std::to_string(ReadyCount(*current.replicas)) +
         ", \"replicas\": " + Replicas(*current.replicas) +
         ", \"revision\": " + Quote(current.revision) + ", \"role\": " + Quote(route.role) +
         ", \"weight\": " + Weight(route.weight) + "}";
}

}  // namespace

auto StatusDocument(const RouterStatus& status, const Fleet& fleet) -> std::string {
  std::string endpoints = "[";
  const Routes& routes = fleet.routes();
  for (std::size_t e = 0; e < routes.endpoints.size() && e < fleet.versions().size(); ++e) {
    if (endpoints.size() > 1) endpoints += ", ";
    std::string versions = "[";
    for (const FleetVersion& version : fleet.versions()[e]) {
      if (versions.size() > 1) versions += ", ";
      versions += Version(version);
    }
    endpoints += "{\"name\": " + Quote(routes.endpoints[e].name) +
                 ", \"path\": " + Quote(routes.endpoints[e].path) + ", \"versions\": " + versions +
                 "]}";
  }
  endpoints += "]";
  return "{\"endpoints\": " + endpoints + ", \"format\": " + std::to_string(kStatusFormat) +
         ", \"pid\": " + std::to_string(status.pid) + ", \"port\": " + std::to_string(status.port) +
         ", \"reload_error\": " + Quote(status.reload_error) +
         ", \"reloads\": " + std::to_string(status.reloads) +
         ", \"routes_sha256\": " + Quote(status.routes_sha256) +
         ", \"tls_port\": " + std::to_string(status.tls_port) + "}\n";
}

auto WriteFileAtomically(const std::string& path, const std::string& text, std::string& error)
    -> bool {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write " + temporary + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t written = ::write(fd, text.data() + done, text.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      error = "cannot write " + temporary + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(written);
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace ferry::router
