// Request authentication shared by `serve` and the router: API keys (a
// primary and a secondary, either regenerable without a restart) or JWTs
// (HS256, signed with the endpoint's signing key). Credentials are compared
// in constant time and never appear in results, errors or logs: a result says
// which key matched ("primary"), never the key.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ferry_rt::serve {

class Logger;

/// How an endpoint authenticates (`--auth none|key|token`).
enum class AuthMode { kNone, kKey, kToken };

/// `text` as an AuthMode ("none", "key", "token"); nullopt for anything else.
auto ParseAuthMode(std::string_view text) -> std::optional<AuthMode>;

/// Which credential let a request in; logged as `auth`.
enum class Credential { kNone, kPrimary, kSecondary, kToken };

/// "none", "primary", "secondary" or "token".
auto CredentialName(Credential credential) -> std::string_view;

/// Why a request was refused (the server answers 401 for all of them).
enum class AuthFailure {
  kMissing,        ///< no Authorization header
  kMalformed,      ///< not `Bearer <credential>`, or a token that is not a well-formed JWT
  kBadAlgorithm,   ///< a token whose header alg is not HS256 (none, RS256, absent)
  kBadSignature,   ///< a token whose signature does not match the signing key
  kExpired,        ///< a token past its `exp`
  kWrongAudience,  ///< a token for another endpoint (`aud`)
  kWrongIssuer,    ///< a token whose `iss` is not "ferry"
  kUnknownKey,     ///< a key that is neither the primary nor the secondary
};

/// A stable lower-case name for logs and error codes: "missing", "bad_signature", ...
auto AuthFailureName(AuthFailure failure) -> std::string_view;

/// The outcome of checking one request: a credential, or a failure with a
/// message for the client that names the reason but never the secret.
struct AuthResult {
  Credential credential = Credential::kNone;
  std::optional<AuthFailure> failure;
  std::string message;  ///< empty when ok

  /// True when the request may proceed.
  auto ok() const -> bool { return !failure.has_value(); }
};

/// Seconds since the Unix epoch; injected so tests control expiry and reloads.
using WallClock = std::function<std::int64_t()>;

/// The system clock as a WallClock.
auto SystemClock() -> WallClock;

/// The claims ferry puts in (and requires of) a token.
struct TokenClaims {
  std::int64_t exp = 0;                    ///< expiry, seconds since the epoch
  std::optional<std::int64_t> refresh_by;  ///< when clients should fetch a new one (<= exp)
  std::string aud;                         ///< the endpoint name; omitted when empty
  std::string iss = "ferry";
};

/// A compact JWT (HS256) carrying `claims`, signed with `signing_key`. Used by
/// `ferry token` and tests. Deterministic: the same inputs give the same token.
auto SignToken(std::string_view signing_key, const TokenClaims& claims) -> std::string;

/// Checks a compact JWT against `signing_key` at `now` (seconds since the
/// epoch): alg exactly HS256, the signature, `exp` in the future,
/// `refresh_by` <= exp, `iss` "ferry", and `aud` equal to `audience` unless
/// `audience` is empty.
auto VerifyToken(std::string_view token, std::string_view signing_key, std::string_view audience,
                 std::int64_t now) -> AuthResult;

/// How to build an Authenticator.
struct AuthOptions {
  AuthMode mode = AuthMode::kNone;
  /// `--keys PATH`: a directory (a mounted Kubernetes Secret) with files
  /// `primary`, `secondary`, `signing-key`, or a file of `name: value` lines.
  std::string keys_path;
  std::string audience;   ///< the endpoint name tokens must carry in `aud`; empty: not checked
  WallClock clock;        ///< empty: SystemClock()
  Logger* log = nullptr;  ///< where key reloads are reported (names only, never values)
};

/// The keys read from a keys path: each empty when absent.
struct KeySet {
  std::string primary;
  std::string secondary;
  std::string signing_key;
};

/// Reads `path` (directory or `name: value` file). On failure returns nullopt
/// and sets `error` to a message that names the path and line, never a value.
auto ReadKeys(const std::string& path, std::string* error) -> std::optional<KeySet>;

/// Checks `Authorization` headers for one endpoint. Thread-safe: any number of
/// request threads may call Check at once. The keys path is looked at again
/// (inode, mtime, size of each file) at most once a second; when it changed
/// the keys are re-read, so a regenerated key works and the replaced one stops
/// working without a restart. A re-read that fails keeps the previous keys.
class Authenticator {
 public:
  /// An Authenticator, or nullptr with `error` set (unreadable keys path,
  /// no key for the mode, keys path missing for key/token mode).
  static auto Create(AuthOptions options, std::string* error) -> std::unique_ptr<Authenticator>;
  ~Authenticator();
  Authenticator(const Authenticator&) = delete;
  auto operator=(const Authenticator&) -> Authenticator& = delete;

  /// Checks one request's Authorization header value (nullopt when absent).
  auto Check(std::optional<std::string_view> authorization) -> AuthResult;

  /// The mode this authenticator enforces.
  auto mode() const -> AuthMode;

 private:
  struct State;
  explicit Authenticator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace ferry_rt::serve
