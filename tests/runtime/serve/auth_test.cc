// API keys and JWTs: every way a credential is refused, key files re-read
// without a restart, and many threads checking while keys change.
#include "runtime/serve/auth.h"

#include <doctest/doctest.h>
#include <openssl/hmac.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "runtime/serve/log.h"
#include "tests/runtime/serve/scratch_dir.h"

namespace ferry::serve_test {
namespace {

using ferry_rt::serve::Authenticator;
using ferry_rt::serve::AuthMode;
using ferry_rt::serve::AuthResult;
using ferry_rt::serve::Credential;
using ferry_rt::serve::SignToken;
using ferry_rt::serve::TokenClaims;
using ferry_rt::serve::VerifyToken;

constexpr std::int64_t kNow = 1'800'000'000;
constexpr const char* kSigningKey = "sekrit-signing-key";

auto Base64Url(std::string_view bytes) -> std::string {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(buffer >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (6 - bits)) & 63];
  return out;
}

// A token with any header and claims, signed (HS256) with `key`: how attackers build them.
auto Handmade(std::string_view header, std::string_view claims, std::string_view key)
    -> std::string {
  std::string input = Base64Url(header) + "." + Base64Url(claims);
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + Base64Url(std::string_view(reinterpret_cast<char*>(mac), length));
}

auto Claims(std::int64_t exp, std::string aud = "faq") -> TokenClaims {
  TokenClaims claims;
  claims.exp = exp;
  claims.aud = std::move(aud);
  return claims;
}

auto FailureOf(const AuthResult& result) -> std::string {
  return result.failure ? std::string(ferry_rt::serve::AuthFailureName(*result.failure)) : "ok";
}

// A log sink that keeps every line.
class Capture : public ferry_rt::serve::LogSink {
 public:
  void WriteLine(std::string_view line) override {
    std::lock_guard lock(mutex_);
    text_ += line;
  }
  auto text() -> std::string {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  std::mutex mutex_;
  std::string text_;
};

TEST_SUITE("serve") {
  TEST_CASE("a signed token is standard HS256 and verifies") {
    TokenClaims claims = Claims(1'900'000'000);
    claims.refresh_by = 1'899'990'000;
    std::string token = SignToken(kSigningKey, claims);
    // The same bytes Python's hmac + base64 give: any JWT library accepts it.
    CHECK(token ==
          "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
          "eyJhdWQiOiJmYXEiLCJleHAiOjE5MDAwMDAwMDAsImlzcyI6ImZlcnJ5IiwicmVmcmVzaF9ieSI6MTg5OTk5MDAw"
          "MH0."
          "kIynNmxLSH5QmckMzZhPVhAIMjgUcSX8rX1wgDVSB5c");
    AuthResult result = VerifyToken(token, kSigningKey, "faq", kNow);
    CHECK(result.ok());
    CHECK(result.credential == Credential::kToken);
    CHECK(VerifyToken(token, kSigningKey, "", kNow).ok());
  }

  TEST_CASE("forged tokens are refused: other key, edited claims, edited signature") {
    std::string token = SignToken(kSigningKey, Claims(kNow + 60));
    AuthResult other =
        VerifyToken(SignToken("another-key", Claims(kNow + 60)), kSigningKey, "faq", kNow);
    CHECK(FailureOf(other) == "bad_signature");
    CHECK(other.message == "the token's signature does not match the endpoint's signing key");

    // The claims of a longer-lived token spliced onto this token's signature.
    std::string longer = SignToken("attacker", Claims(kNow + 999999));
    std::size_t dot1 = token.find('.'), dot2 = token.rfind('.');
    std::size_t ldot1 = longer.find('.'), ldot2 = longer.rfind('.');
    std::string spliced =
        token.substr(0, dot1) + longer.substr(ldot1, ldot2 - ldot1) + token.substr(dot2);
    CHECK(FailureOf(VerifyToken(spliced, kSigningKey, "faq", kNow)) == "bad_signature");

    std::string flipped = token;
    flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
    CHECK(FailureOf(VerifyToken(flipped, kSigningKey, "faq", kNow)) == "bad_signature");
    // An empty signing key never verifies anything, even a token signed with one.
    CHECK(FailureOf(VerifyToken(SignToken("", Claims(kNow + 60)), "", "faq", kNow)) ==
          "bad_signature");
  }

  TEST_CASE("only alg HS256 is accepted: none, RS256, lower case and a missing alg are not") {
    std::string claims = R"({"aud":"faq","exp":1800000060,"iss":"ferry"})";
    std::string none = Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(claims) + ".";
    AuthResult result = VerifyToken(none, kSigningKey, "faq", kNow);
    CHECK(FailureOf(result) == "bad_algorithm");
    CHECK(result.message == "alg 'none' is not accepted; only HS256 is");
    CHECK(FailureOf(VerifyToken(Handmade(R"({"alg":"RS256"})", claims, kSigningKey), kSigningKey,
                                "faq", kNow)) == "bad_algorithm");
    CHECK(FailureOf(VerifyToken(Handmade(R"({"alg":"hs256"})", claims, kSigningKey), kSigningKey,
                                "faq", kNow)) == "bad_algorithm");
    AuthResult missing =
        VerifyToken(Handmade(R"({"typ":"JWT"})", claims, kSigningKey), kSigningKey, "faq", kNow);
    CHECK(missing.message == "the token's header has no alg; only HS256 is accepted");
    // A hostile alg is not echoed back.
    AuthResult odd = VerifyToken(Handmade(R"({"alg":"<script>"})", claims, kSigningKey),
                                 kSigningKey, "faq", kNow);
    CHECK(odd.message == "the token's alg is not accepted; only HS256 is");
    // The same claims under HS256 pass: the algorithm was the only problem.
    CHECK(VerifyToken(Handmade(R"({"alg":"HS256"})", claims, kSigningKey), kSigningKey, "faq", kNow)
              .ok());
  }

  TEST_CASE("a token expires at exp; refresh_by must not be after exp") {
    std::string token = SignToken(kSigningKey, Claims(kNow + 1));
    CHECK(VerifyToken(token, kSigningKey, "faq", kNow).ok());
    AuthResult expired = VerifyToken(token, kSigningKey, "faq", kNow + 1);
    CHECK(FailureOf(expired) == "expired");
    CHECK(expired.message == "the token expired at 1800000001; fetch a new one");

    TokenClaims late = Claims(kNow + 60);
    late.refresh_by = kNow + 61;
    AuthResult refresh = VerifyToken(SignToken(kSigningKey, late), kSigningKey, "faq", kNow);
    CHECK(FailureOf(refresh) == "malformed");
    CHECK(refresh.message == "the token's refresh_by is not a time at or before exp");

    for (std::string claims :
         {R"({"aud":"faq","iss":"ferry"})", R"({"aud":"faq","exp":"1800000060","iss":"ferry"})",
          R"({"aud":"faq","exp":1800000060.5,"iss":"ferry"})"}) {
      CAPTURE(claims);
      AuthResult result = VerifyToken(Handmade(R"({"alg":"HS256"})", claims, kSigningKey),
                                      kSigningKey, "faq", kNow);
      CHECK(result.message == "the token has no exp claim (whole seconds since epoch)");
    }
  }

  TEST_CASE("a token for another endpoint or from another issuer is refused") {
    AuthResult other =
        VerifyToken(SignToken(kSigningKey, Claims(kNow + 60, "fraud")), kSigningKey, "faq", kNow);
    CHECK(FailureOf(other) == "wrong_audience");
    CHECK(other.message == "the token is not for endpoint 'faq' (aud)");
    CHECK(FailureOf(VerifyToken(SignToken(kSigningKey, Claims(kNow + 60, "")), kSigningKey, "faq",
                                kNow)) == "wrong_audience");
    std::string listed = Handmade(
        R"({"alg":"HS256"})", R"({"aud":["x","faq"],"exp":1800000060,"iss":"ferry"})", kSigningKey);
    CHECK(VerifyToken(listed, kSigningKey, "faq", kNow).ok());

    TokenClaims foreign = Claims(kNow + 60);
    foreign.iss = "azureml";
    CHECK(FailureOf(VerifyToken(SignToken(kSigningKey, foreign), kSigningKey, "faq", kNow)) ==
          "wrong_issuer");
    foreign.iss = "";
    CHECK(FailureOf(VerifyToken(SignToken(kSigningKey, foreign), kSigningKey, "faq", kNow)) ==
          "wrong_issuer");
  }

  TEST_CASE("text that is not a compact JWT is malformed") {
    std::string good = SignToken(kSigningKey, Claims(kNow + 60));
    for (std::string text :
         {std::string("plain-api-key"), std::string("a.b"), good + ".extra",
          "." + good.substr(good.find('.')),
          good.substr(0, good.find('.') + 1) + "." + good.substr(good.rfind('.') + 1),
          "e30=." + good.substr(good.find('.') + 1), "%%%." + good.substr(good.find('.') + 1),
          Base64Url("[1]") + good.substr(good.find('.'))}) {
      CAPTURE(text);
      CHECK(FailureOf(VerifyToken(text, kSigningKey, "faq", kNow)) == "malformed");
    }
    // Well-signed claims that are not a JSON object.
    CHECK(VerifyToken(Handmade(R"({"alg":"HS256"})", "[]", kSigningKey), kSigningKey, "faq", kNow)
              .message == "the token's claims are not base64url JSON");
  }

  TEST_CASE("key auth: primary, secondary, unknown, missing and malformed headers") {
    ScratchDir dir;
    std::filesystem::create_directory(dir / "secret");
    WriteFile(dir / "secret/primary", "primary-key-1\n");
    WriteFile(dir / "secret/secondary", "secondary-key-1");
    std::string error;
    auto auth = Authenticator::Create({AuthMode::kKey, dir / "secret", "", {}, nullptr}, &error);
    REQUIRE_MESSAGE(auth != nullptr, error);
    CHECK(auth->Check("Bearer primary-key-1").credential == Credential::kPrimary);
    CHECK(auth->Check("bearer  secondary-key-1 ").credential == Credential::kSecondary);
    AuthResult wrong = auth->Check("Bearer primary-key-2");
    CHECK(FailureOf(wrong) == "unknown_key");
    CHECK(wrong.message == "the key is neither the endpoint's primary nor its secondary key");
    AuthResult missing = auth->Check(std::nullopt);
    CHECK(FailureOf(missing) == "missing");
    CHECK(missing.message ==
          "missing Authorization header; expected 'Authorization: Bearer <key>'");
    CHECK(FailureOf(auth->Check("")) == "missing");
    for (const char* header : {"primary-key-1", "Basic primary-key-1", "Bearer", "Bearer ",
                               "Bearerprimary-key-1", "Bearer primary-key-1 extra"}) {
      CAPTURE(header);
      CHECK(FailureOf(auth->Check(header)) == "malformed");
    }
  }

  TEST_CASE("token auth through the Authenticator checks the endpoint's audience and clock") {
    ScratchDir dir;
    WriteFile(dir / "keys",
              "# rendered by ferry\nsigning-key: \"" + std::string(kSigningKey) + "\"\n");
    std::atomic<std::int64_t> now{kNow};
    std::string error;
    auto auth = Authenticator::Create(
        {AuthMode::kToken, dir / "keys", "faq", [&] { return now.load(); }, nullptr}, &error);
    REQUIRE_MESSAGE(auth != nullptr, error);
    std::string token = SignToken(kSigningKey, Claims(kNow + 10));
    CHECK(auth->Check("Bearer " + token).credential == Credential::kToken);
    CHECK(FailureOf(auth->Check("Bearer " + SignToken(kSigningKey, Claims(kNow + 10, "x")))) ==
          "wrong_audience");
    now = kNow + 10;
    CHECK(FailureOf(auth->Check("Bearer " + token)) == "expired");
    CHECK(auth->Check(std::nullopt).message ==
          "missing Authorization header; expected 'Authorization: Bearer <token>'");
  }

  TEST_CASE("auth none lets everything in; key and token need usable keys") {
    std::string error;
    auto open = Authenticator::Create({}, &error);
    REQUIRE(open != nullptr);
    CHECK(open->Check(std::nullopt).ok());
    CHECK(open->Check(std::nullopt).credential == Credential::kNone);

    ScratchDir dir;
    CHECK(Authenticator::Create({AuthMode::kKey, "", "", {}, nullptr}, &error) == nullptr);
    CHECK(error == "--keys PATH is required with key or token auth");
    CHECK(Authenticator::Create({AuthMode::kKey, dir / "absent", "", {}, nullptr}, &error) ==
          nullptr);
    CHECK(error == "cannot read keys path " + (dir / "absent") +
                       " (a directory or a file of 'name: value' lines)");
    WriteFile(dir / "keys", "primary: k1\n");
    CHECK(Authenticator::Create({AuthMode::kToken, dir / "keys", "", {}, nullptr}, &error) ==
          nullptr);
    CHECK(error == "no signing-key in " + (dir / "keys"));
    WriteFile(dir / "keys", "signing-key: s\n");
    CHECK(Authenticator::Create({AuthMode::kKey, dir / "keys", "", {}, nullptr}, &error) ==
          nullptr);
    CHECK(error == "no primary or secondary key in " + (dir / "keys"));
  }

  TEST_CASE("key file errors name the line, never its text") {
    ScratchDir dir;
    std::string error;
    WriteFile(dir / "keys", "primary: k1\nsecret-value-without-colon\n");
    CHECK_FALSE(ferry_rt::serve::ReadKeys(dir / "keys", &error).has_value());
    CHECK(error ==
          (dir / "keys") + ":2: expected 'name: value' (primary, secondary or signing-key)");
    WriteFile(dir / "keys", "primary: k1\ntertiary: k3\n");
    CHECK_FALSE(ferry_rt::serve::ReadKeys(dir / "keys", &error).has_value());
    CHECK(error ==
          (dir / "keys") + ":2: unknown key name (expected primary, secondary or signing-key)");
    WriteFile(dir / "keys", "primary: k1\n\nprimary: k2\n");
    CHECK_FALSE(ferry_rt::serve::ReadKeys(dir / "keys", &error).has_value());
    CHECK(error == (dir / "keys") + ":3: 'primary' is given twice");
    WriteFile(dir / "keys", "  primary :  k:1  \r\nsecondary: 'k2'\n");
    auto keys = ferry_rt::serve::ReadKeys(dir / "keys", &error);
    REQUIRE(keys.has_value());
    CHECK(keys->primary == "k:1");
    CHECK(keys->secondary == "k2");
    CHECK(keys->signing_key.empty());
  }

  TEST_CASE("a regenerated key file is picked up within a second, and the old key stops working") {
    ScratchDir dir;
    WriteFile(dir / "keys", "primary: old-primary\nsecondary: the-secondary\n");
    std::atomic<std::int64_t> now{kNow};
    Capture capture;
    ferry_rt::serve::Logger log(capture, [] { return std::int64_t{0}; });
    std::string error;
    auto auth = Authenticator::Create(
        {AuthMode::kKey, dir / "keys", "", [&] { return now.load(); }, &log}, &error);
    REQUIRE_MESSAGE(auth != nullptr, error);
    CHECK(auth->Check("Bearer old-primary").ok());

    // Regenerated the way tools do it: a new file renamed over the old one.
    WriteFile(dir / "keys.new", "primary: new-primary-key\nsecondary: the-secondary\n");
    std::filesystem::rename(dir / "keys.new", dir / "keys");
    // Within the same second the path is not looked at again.
    CHECK(auth->Check("Bearer old-primary").ok());
    now = kNow + 1;
    CHECK(FailureOf(auth->Check("Bearer old-primary")) == "unknown_key");
    CHECK(auth->Check("Bearer new-primary-key").credential == Credential::kPrimary);
    CHECK(auth->Check("Bearer the-secondary").credential == Credential::kSecondary);

    // A broken file keeps the keys that worked, and says so once.
    WriteFile(dir / "keys", "primary new-primary-key-broken\n");
    now = kNow + 2;
    CHECK(auth->Check("Bearer new-primary-key").ok());
    now = kNow + 3;
    CHECK(auth->Check("Bearer new-primary-key").ok());
    CHECK(capture.text() ==
          "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"msg\":\"keys reloaded\","
          "\"path\":\"" +
              (dir / "keys") +
              "\"}\n"
              "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"warn\",\"msg\":\"keys re-read "
              "failed; "
              "keeping the previous keys\",\"error\":\"" +
              (dir / "keys") +
              ":1: expected 'name: value' (primary, secondary or signing-key)\"}\n");
    CHECK(capture.text().find("primary-key") == std::string::npos);
  }

  TEST_CASE("a Kubernetes Secret volume's symlink swap is picked up") {
    // The kubelet's layout: primary -> ..data/primary, ..data -> ..<timestamp>/.
    ScratchDir dir;
    namespace fs = std::filesystem;
    fs::create_directories(dir / "..2026_01/");
    WriteFile(dir / "..2026_01/primary", "first-key");
    fs::create_directory_symlink("..2026_01", dir / "..data");
    fs::create_symlink("..data/primary", dir / "primary");
    std::atomic<std::int64_t> now{kNow};
    std::string error;
    auto auth = Authenticator::Create(
        {AuthMode::kKey, dir.path(), "", [&] { return now.load(); }, nullptr}, &error);
    REQUIRE_MESSAGE(auth != nullptr, error);
    CHECK(auth->Check("Bearer first-key").credential == Credential::kPrimary);

    fs::create_directories(dir / "..2026_02/");
    WriteFile(dir / "..2026_02/primary", "second-key");
    WriteFile(dir / "..2026_02/secondary", "first-key");
    fs::create_directory_symlink("..2026_02", dir / "..data_tmp");
    fs::rename(dir / "..data_tmp", dir / "..data");
    fs::create_symlink("..data/secondary", dir / "secondary");
    fs::remove_all(dir / "..2026_01");
    now = kNow + 5;
    CHECK(auth->Check("Bearer second-key").credential == Credential::kPrimary);
    CHECK(auth->Check("Bearer first-key").credential == Credential::kSecondary);
  }

  TEST_CASE("many threads check keys while the key file is regenerated") {
    ScratchDir dir;
    WriteFile(dir / "keys", "primary: p-0\nsecondary: stable-secondary\n");
    std::atomic<std::int64_t> now{kNow};
    std::string error;
    auto auth = Authenticator::Create(
        {AuthMode::kKey, dir / "keys", "", [&] { return now.load(); }, nullptr}, &error);
    REQUIRE_MESSAGE(auth != nullptr, error);
    std::atomic<bool> stop{false};
    std::atomic<int> wrong{0};
    std::thread rotator([&] {
      for (int i = 1; i <= 200; ++i) {
        WriteFile(dir / "keys.new",
                  "primary: p-" + std::to_string(i) + "\nsecondary: stable-secondary\n");
        std::filesystem::rename(dir / "keys.new", dir / "keys");
        now.fetch_add(1);
      }
      stop = true;
    });
    std::vector<std::thread> checkers;
    checkers.reserve(6);
    for (int t = 0; t < 6; ++t) {
      checkers.emplace_back([&] {
        int rounds = 0;
        while (!stop.load() || rounds < 500) {
          ++rounds;
          if (auth->Check("Bearer stable-secondary").credential != Credential::kSecondary) ++wrong;
          if (auth->Check("Bearer never-a-key").ok()) ++wrong;
        }
      });
    }
    rotator.join();
    for (std::thread& checker : checkers) checker.join();
    CHECK(wrong.load() == 0);
    now.fetch_add(1);
    CHECK(auth->Check("Bearer p-200").credential == Credential::kPrimary);
    CHECK_FALSE(auth->Check("Bearer p-199").ok());
  }
}

}  // namespace
}  // namespace ferry::serve_test
