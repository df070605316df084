// Authenticator: the Authorization header, key comparison in constant time,
// and the keys path re-read when it changes. Tokens are in auth_token.cc.
#include "runtime/serve/auth.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sys/stat.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <fstream>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <utility>

#include "runtime/serve/log.h"

namespace ferry_rt::serve {
namespace {

constexpr std::string_view kKeyNames[] = {"primary", "secondary", "signing-key"};

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

auto DigestOf(std::string_view text) -> Digest {
  Digest digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

auto Trim(std::string_view text) -> std::string_view {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

auto Slot(KeySet& keys, std::string_view name) -> std::string* {
  if (name == "primary") return &keys.primary;
  if (name == "secondary") return &keys.secondary;
  if (name == "signing-key") return &keys.signing_key;
  return nullptr;
}

auto ReadWhole(const std::string& path, std::string* text) -> bool {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return false;
  *text = buffer.str();
  return true;
}

// One `stat` (following symlinks: a Secret volume swaps its `..data` link) as text.
auto StatPrint(const std::string& path) -> std::string {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "-;";
  std::ostringstream out;
  out << info.st_dev << ':' << info.st_ino << ':' << info.st_size << ':' << info.st_mtim.tv_sec
      << '.' << info.st_mtim.tv_nsec << ':' << info.st_ctim.tv_sec << '.' << info.st_ctim.tv_nsec
      << ';';
  return out.str();
}

auto IsDirectory(const std::string& path) -> bool {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// What identifies the keys path's current content without reading it.
auto Fingerprint(const std::string& path) -> std::string {
  if (!IsDirectory(path)) return StatPrint(path);
  std::string print = "dir;";
  for (std::string_view name : kKeyNames) print += StatPrint(path + "/" + std::string(name));
  return print;
}

auto ReadKeyFile(const std::string& path, const std::string& text, std::string* error)
    -> std::optional<KeySet> {
  KeySet keys;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  bool seen[3] = {false, false, false};
  while (std::getline(lines, line)) {
    ++number;
    std::string_view trimmed = Trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    std::string where = path + ":" + std::to_string(number) + ": ";
    // Messages name the line, never its text: the text may be a key.
    std::size_t colon = trimmed.find(':');
    if (colon == std::string_view::npos) {
      *error = where + "expected 'name: value' (primary, secondary or signing-key)";
      return std::nullopt;
    }
    std::string_view name = Trim(trimmed.substr(0, colon));
    std::string_view value = Trim(trimmed.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    std::string* slot = Slot(keys, name);
    if (slot == nullptr) {
      *error = where + "unknown key name (expected primary, secondary or signing-key)";
      return std::nullopt;
    }
    std::size_t index = static_cast<std::size_t>(slot - &keys.primary);
    if (seen[index]) {
      *error = where + "'" + std::string(name) + "' is given twice";
      return std::nullopt;
    }
    seen[index] = true;
    *slot = std::string(value);
  }
  return keys;
}

}  // namespace

auto ParseAuthMode(std::string_view text) -> std::optional<AuthMode> {
  if (text == "none") return AuthMode::kNone;
  if (text == "key") return AuthMode::kKey;
  if (text == "token") return AuthMode::kToken;
  return std::nullopt;
}

auto CredentialName(Credential credential) -> std::string_view {
  switch (credential) {
    case Credential::kPrimary:
      return "primary";
    case Credential::kSecondary:
      return "secondary";
    case Credential::kToken:
      return "token";
    case Credential::kNone:
      break;
  }
  return "none";
}

auto AuthFailureName(AuthFailure failure) -> std::string_view {
  switch (failure) {
    case AuthFailure::kMissing:
      return "missing";
    case AuthFailure::kMalformed:
      return "malformed";
    case AuthFailure::kBadAlgorithm:
      return "bad_algorithm";
    case AuthFailure::kBadSignature:
      return "bad_signature";
    case AuthFailure::kExpired:
      return "expired";
    case AuthFailure::kWrongAudience:
      return "wrong_audience";
    case AuthFailure::kWrongIssuer:
      return "wrong_issuer";
    case AuthFailure::kUnknownKey:
      break;
  }
  return "unknown_key";
}

auto SystemClock() -> WallClock {
  return [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

auto ReadKeys(const std::string& path, std::string* error) -> std::optional<KeySet> {
  if (IsDirectory(path)) {
    KeySet keys;
    for (std::string_view name : kKeyNames) {
      std::string file = path + "/" + std::string(name);
      struct stat info {};
      if (::stat(file.c_str(), &info) != 0) continue;  // an absent key is an empty one
      std::string text;
      if (!S_ISREG(info.st_mode) || !ReadWhole(file, &text)) {
        *error = "cannot read key file " + file;
        return std::nullopt;
      }
      *Slot(keys, name) = std::string(Trim(text));
    }
    return keys;
  }
  std::string text;
  if (!ReadWhole(path, &text)) {
    *error = "cannot read keys path " + path + " (a directory or a file of 'name: value' lines)";
    return std::nullopt;
  }
  return ReadKeyFile(path, text, error);
}

// The keys in use, with the key digests compared on every request.
struct LoadedKeys {
  KeySet keys;
  std::string fingerprint;
  Digest primary{};
  Digest secondary{};
};

struct Authenticator::State {
  AuthOptions options;
  // A plain shared_ptr behind a shared_mutex rather than atomic<shared_ptr>:
  // libstdc++'s lock bit in the latter is invisible to ThreadSanitizer.
  mutable std::shared_mutex keys_mutex;
  std::shared_ptr<const LoadedKeys> keys;

  auto Keys() const -> std::shared_ptr<const LoadedKeys> {
    std::shared_lock lock(keys_mutex);
    return keys;
  }
  void SetKeys(std::shared_ptr<const LoadedKeys> fresh) {
    std::unique_lock lock(keys_mutex);
    keys = std::move(fresh);
  }
  std::atomic<std::int64_t> last_check{0};
  std::mutex reload_mutex;
  std::string last_error;  // guarded by reload_mutex: a failing re-read is reported once

  // The keys at `path` if they serve this mode, else nullopt and `error`.
  auto Load(std::string* error) const -> std::shared_ptr<const LoadedKeys> {
    auto loaded = std::make_shared<LoadedKeys>();
    loaded->fingerprint = Fingerprint(options.keys_path);
    std::optional<KeySet> keys = ReadKeys(options.keys_path, error);
    if (!keys) return nullptr;
    if (options.mode == AuthMode::kKey && keys->primary.empty() && keys->secondary.empty()) {
      *error = "no primary or secondary key in " + options.keys_path;
      return nullptr;
    }
    if (options.mode == AuthMode::kToken && keys->signing_key.empty()) {
      *error = "no signing-key in " + options.keys_path;
      return nullptr;
    }
    loaded->primary = DigestOf(keys->primary);
    loaded->secondary = DigestOf(keys->secondary);
    loaded->keys = std::move(*keys);
    return loaded;
  }

  // Re-reads the keys when the path changed; at most once a second, by one thread.
  void MaybeReload(std::int64_t now) {
    std::int64_t last = last_check.load(std::memory_order_relaxed);
    if (now >= last && now < last + 1) return;
    std::unique_lock lock(reload_mutex, std::try_to_lock);
    if (!lock.owns_lock()) return;  // another request is looking; use the current keys
    if (!last_check.compare_exchange_strong(last, now)) return;
    std::shared_ptr<const LoadedKeys> current = Keys();
    if (Fingerprint(options.keys_path) == current->fingerprint) return;
    std::string error;
    std::shared_ptr<const LoadedKeys> fresh = Load(&error);
    if (fresh == nullptr) {
      if (error != last_error && options.log != nullptr) {
        options.log->Warn("keys re-read failed; keeping the previous keys",
                          {LogField::Str("error", error)});
      }
      last_error = error;
      return;
    }
    last_error.clear();
    bool changed = fresh->keys.primary != current->keys.primary ||
                   fresh->keys.secondary != current->keys.secondary ||
                   fresh->keys.signing_key != current->keys.signing_key;
    SetKeys(std::move(fresh));
    if (changed && options.log != nullptr) {
      options.log->Info("keys reloaded", {LogField::Str("path", options.keys_path)});
    }
  }

  auto CheckKey(std::string_view key) const -> AuthResult {
    std::shared_ptr<const LoadedKeys> loaded = Keys();
    Digest digest = DigestOf(key);
    // Both comparisons always run, so timing says nothing about which key is near.
    bool primary = CRYPTO_memcmp(digest.data(), loaded->primary.data(), digest.size()) == 0;
    bool secondary = CRYPTO_memcmp(digest.data(), loaded->secondary.data(), digest.size()) == 0;
    if (primary && !loaded->keys.primary.empty()) return {Credential::kPrimary, {}, {}};
    if (secondary && !loaded->keys.secondary.empty()) return {Credential::kSecondary, {}, {}};
    return {Credential::kNone, AuthFailure::kUnknownKey,
            "the key is neither the endpoint's primary nor its secondary key"};
  }
};

Authenticator::Authenticator(std::unique_ptr<State> state) : state_(std::move(state)) {}
Authenticator::~Authenticator() = default;

auto Authenticator::Create(AuthOptions options, std::string* error)
    -> std::unique_ptr<Authenticator> {
  if (!options.clock) options.clock = SystemClock();
  auto state = std::make_unique<State>();
  state->options = std::move(options);
  if (state->options.mode != AuthMode::kNone) {
    if (state->options.keys_path.empty()) {
      *error = "--keys PATH is required with key or token auth";
      return nullptr;
    }
    std::shared_ptr<const LoadedKeys> loaded = state->Load(error);
    if (loaded == nullptr) return nullptr;
    state->SetKeys(std::move(loaded));
    state->last_check.store(state->options.clock());
  }
  return std::unique_ptr<Authenticator>(new Authenticator(std::move(state)));
}

auto Authenticator::mode() const -> AuthMode { return state_->options.mode; }

auto Authenticator::Check(std::optional<std::string_view> authorization) -> AuthResult {
  const AuthMode mode = state_->options.mode;
  if (mode == AuthMode::kNone) return {};
  const std::string_view expected =
      mode == AuthMode::kKey ? "'Authorization: Bearer <key>'" : "'Authorization: Bearer <token>'";
  if (!authorization.has_value() || Trim(*authorization).empty()) {
    return {Credential::kNone, AuthFailure::kMissing,
            "missing Authorization header; expected " + std::string(expected)};
  }
  std::string_view value = Trim(*authorization);
  constexpr std::string_view kScheme = "bearer";
  bool bearer = value.size() > kScheme.size() && value[kScheme.size()] == ' ';
  for (std::size_t i = 0; bearer && i < kScheme.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(value[i])) == kScheme[i];
  }
  std::string_view credential = bearer ? Trim(value.substr(kScheme.size())) : std::string_view();
  if (credential.empty() || credential.find_first_of(" \t") != std::string_view::npos) {
    return {Credential::kNone, AuthFailure::kMalformed,
            "the Authorization header is not " + std::string(expected)};
  }
  std::int64_t now = state_->options.clock();
  state_->MaybeReload(now);
  if (mode == AuthMode::kKey) return state_->CheckKey(credential);
  std::shared_ptr<const LoadedKeys> loaded = state_->Keys();
  return VerifyToken(credential, loaded->keys.signing_key, state_->options.audience, now);
}

}  // namespace ferry_rt::serve
