// JWTs (RFC 7519) as ferry uses them: compact form, HS256 only, claims exp,
// refresh_by, aud and iss. Everything else a JWT library offers (other
// algorithms, key ids, nested tokens) is refused rather than supported.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <cmath>
#include <string>

#include "runtime/json.h"
#include "runtime/model.h"
#include "runtime/serve/auth.h"

namespace ferry_rt::serve {
namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kSignatureBytes = 32;

auto Base64UrlEncode(std::string_view bytes) -> std::string {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                 static_cast<unsigned char>(bytes[i + 1]) << 8 |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kBase64Url[v >> 18];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
    out += kBase64Url[v & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kBase64Url[v >> 18];
    out += kBase64Url[(v >> 12) & 63];
    if (rest == 2) out += kBase64Url[(v >> 6) & 63];
  }
  return out;
}

auto Base64UrlValue(char c) -> int {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Unpadded base64url (RFC 7515 section 2); false on any other character or length.
auto Base64UrlDecode(std::string_view text, std::string* out) -> bool {
  if (text.size() % 4 == 1) return false;
  out->clear();
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    int value = Base64UrlValue(c);
    if (value < 0) return false;
    buffer = (buffer << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  // Leftover bits must be zero, so each token has exactly one encoding.
  return (buffer & ((1u << bits) - 1)) == 0;
}

auto HmacSha256(std::string_view key, std::string_view data, unsigned char* out) -> bool {
  static const unsigned char kEmpty = 0;
  unsigned int length = 0;
  const void* key_bytes = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  return HMAC(EVP_sha256(), key_bytes, static_cast<int>(key.size()),
              reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
              &length) != nullptr &&
         length == kSignatureBytes;
}

auto Fail(AuthFailure failure, std::string message) -> AuthResult {
  return {Credential::kNone, failure, std::move(message)};
}

// The JSON object encoded in `part`, or nullopt.
auto DecodeObject(std::string_view part) -> std::optional<json::Value> {
  std::string text;
  if (!Base64UrlDecode(part, &text)) return std::nullopt;
  try {
    json::Value value = json::Parse(text);
    if (value.kind != json::Value::Kind::kObject) return std::nullopt;
    return value;
  } catch (const ferry_rt::Error&) {
    return std::nullopt;
  }
}

// A claim holding whole seconds since the epoch.
auto Seconds(const json::Value& value) -> std::optional<std::int64_t> {
  constexpr double kLimit = 9007199254740992.0;  // 2^53: exact in a double
  if (value.kind != json::Value::Kind::kNumber || !std::isfinite(value.number) ||
      std::floor(value.number) != value.number || std::fabs(value.number) > kLimit) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value.number);
}

auto Find(const json::Value& object, const std::string& name) -> const json::Value* {
  auto it = object.object.find(name);
  return it == object.object.end() ? nullptr : &it->second;
}

// The header's alg, quoted when it is short and plain (it comes from the client).
auto DescribeAlg(const json::Value& alg) -> std::string {
  if (alg.kind != json::Value::Kind::kString || alg.string.empty() || alg.string.size() > 16) {
    return "the token's alg";
  }
  for (char c : alg.string) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "the token's alg";
  }
  return "alg '" + alg.string + "'";
}

auto CheckAudience(const json::Value* aud, std::string_view audience) -> bool {
  if (aud == nullptr) return false;
  if (aud->kind == json::Value::Kind::kString) return aud->string == audience;
  if (aud->kind != json::Value::Kind::kArray) return false;
  for (const json::Value& item : aud->array) {
    if (item.kind == json::Value::Kind::kString && item.string == audience) return true;
  }
  return false;
}

auto CheckClaims(const json::Value& claims, std::string_view audience, std::int64_t now)
    -> AuthResult {
  const json::Value* exp_value = Find(claims, "exp");
  std::optional<std::int64_t> exp = exp_value ? Seconds(*exp_value) : std::nullopt;
  if (!exp) {
    return Fail(AuthFailure::kMalformed, "the token has no exp claim (whole seconds since epoch)");
  }
  if (const json::Value* refresh = Find(claims, "refresh_by")) {
    std::optional<std::int64_t> refresh_by = Seconds(*refresh);
    if (!refresh_by || *refresh_by > *exp) {
      return Fail(AuthFailure::kMalformed, "the token's refresh_by is not a time at or before exp");
    }
  }
  const json::Value* iss = Find(claims, "iss");
  if (iss == nullptr || iss->kind != json::Value::Kind::kString || iss->string != "ferry") {
    return Fail(AuthFailure::kWrongIssuer, "the token was not issued by ferry (iss)");
  }
  if (!audience.empty() && !CheckAudience(Find(claims, "aud"), audience)) {
    return Fail(AuthFailure::kWrongAudience,
                "the token is not for endpoint '" + std::string(audience) + "' (aud)");
  }
  if (now >= *exp) {
    return Fail(AuthFailure::kExpired,
                "the token expired at " + std::to_string(*exp) + "; fetch a new one");
  }
  return {Credential::kToken, {}, {}};
}

}  // namespace

auto SignToken(std::string_view signing_key, const TokenClaims& claims) -> std::string {
  std::string header = R"({"alg":"HS256","typ":"JWT"})";
  // Claims in name order, integers written whole: the same claims give the same token.
  std::string payload = "{";
  if (!claims.aud.empty()) payload += "\"aud\":" + json::Quote(claims.aud) + ",";
  payload += "\"exp\":" + std::to_string(claims.exp);
  if (!claims.iss.empty()) payload += ",\"iss\":" + json::Quote(claims.iss);
  if (claims.refresh_by) payload += ",\"refresh_by\":" + std::to_string(*claims.refresh_by);
  payload += "}";
  std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  unsigned char signature[EVP_MAX_MD_SIZE];
  if (!HmacSha256(signing_key, signing_input, signature)) return signing_input + ".";
  return signing_input + "." +
         Base64UrlEncode(std::string_view(reinterpret_cast<char*>(signature), kSignatureBytes));
}

auto VerifyToken(std::string_view token, std::string_view signing_key, std::string_view audience,
                 std::int64_t now) -> AuthResult {
  std::size_t first = token.find('.');
  std::size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos ||
      first == 0 || second == first + 1) {
    return Fail(AuthFailure::kMalformed,
                "the token is not a JWT (three base64url parts separated by '.')");
  }
  std::optional<json::Value> header = DecodeObject(token.substr(0, first));
  if (!header) return Fail(AuthFailure::kMalformed, "the token's header is not base64url JSON");
  const json::Value* alg = Find(*header, "alg");
  if (alg == nullptr) {
    return Fail(AuthFailure::kBadAlgorithm,
                "the token's header has no alg; only HS256 is accepted");
  }
  if (alg->kind != json::Value::Kind::kString || alg->string != "HS256") {
    return Fail(AuthFailure::kBadAlgorithm, DescribeAlg(*alg) + " is not accepted; only HS256 is");
  }
  // The signature is checked before the claims are read. (An empty one, as
  // alg "none" tokens carry, was refused above by the alg check.)
  std::string signature;
  unsigned char expected[EVP_MAX_MD_SIZE];
  bool signed_ok = !signing_key.empty() && Base64UrlDecode(token.substr(second + 1), &signature) &&
                   signature.size() == kSignatureBytes &&
                   HmacSha256(signing_key, token.substr(0, second), expected) &&
                   CRYPTO_memcmp(expected, signature.data(), kSignatureBytes) == 0;
  if (!signed_ok) {
    return Fail(AuthFailure::kBadSignature,
                "the token's signature does not match the endpoint's signing key");
  }
  std::optional<json::Value> claims = DecodeObject(token.substr(first + 1, second - first - 1));
  if (!claims) return Fail(AuthFailure::kMalformed, "the token's claims are not base64url JSON");
  return CheckClaims(*claims, audience, now);
}

}  // namespace ferry_rt::serve
