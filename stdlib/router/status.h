// The router's status file (--status-file): one JSON document, rewritten
// atomically (PATH.tmp, then rename) so a reader (the local executor) never
// sees half of it. The format is described in docs/router.md ("Status file").
#pragma once

#include <cstdint>
#include <string>

#include "router/fleet.h"

namespace ferry::router {

/// The status file's version.
inline constexpr std::int64_t kStatusFormat = 1;

/// What the status document says beyond the fleet.
struct RouterStatus {
  std::int64_t pid = 0;
  int port = 0;
  int tls_port = 0;           ///< 0: no TLS listener
  std::string routes_sha256;  ///< of the routes file bytes last loaded successfully
  std::string reload_error;   ///< the last failed reload's errors; "" after a success
  std::int64_t reloads = 0;   ///< successful reloads since start
};

/// The status document (keys sorted, one line, ending in a newline).
auto StatusDocument(const RouterStatus& status, const Fleet& fleet) -> std::string;

/// Writes `text` to `path` atomically (path + ".tmp", then rename); false
/// with `error` set on failure.
auto WriteFileAtomically(const std::string& path, const std::string& text, std::string& error)
    -> bool;

}  // namespace ferry::router
