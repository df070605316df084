// Key material for endpoints: new random keys and signing keys, and the
// local executor's key files. Both executors generate keys here (the local
// one keeps them in files, the Kubernetes one in Secrets); values are never
// printed or logged.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/apply/executor.h"

namespace ferry::apply {

/// 32 random bytes from OpenSSL's RAND_bytes as unpadded base64url (43
/// characters): an endpoint key or an HS256 signing key. Empty only when the
/// random generator fails (callers report that as an error).
auto GenerateKey() -> std::string;

/// The files of an auth mode's material, as the router reads them from an
/// endpoint's folder: "key" -> primary, secondary; "token" -> signing-key.
auto SecretFileNames(std::string_view mode) -> std::vector<std::string>;

/// Reads `folder`'s material for `mode`; nullopt with `error` when a file is
/// missing or empty.
auto ReadSecretFolder(const std::string& folder, std::string_view mode, std::string& error)
    -> std::optional<EndpointSecret>;

/// Writes `secret`'s non-empty values for its mode into `folder` (0700),
/// each file atomically with mode 0600.
auto WriteSecretFolder(const std::string& folder, const EndpointSecret& secret, std::string& error)
    -> bool;

}  // namespace ferry::apply
