#include "compiler/apply/secrets.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <array>
#include <fstream>
#include <sstream>

#include "compiler/apply/state_store.h"

namespace ferry::apply {
namespace {

constexpr std::string_view kBase64Url =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// RFC 4648 section 5, without padding: safe in headers, URLs and file names.
auto Base64Url(const unsigned char* bytes, std::size_t size) -> std::string {
  std::string text;
  text.reserve((size * 4 + 2) / 3);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::size_t left = size - i;
    const unsigned chunk = (unsigned{bytes[i]} << 16) |
                           (left > 1 ? unsigned{bytes[i + 1]} << 8 : 0u) |
                           (left > 2 ? unsigned{bytes[i + 2]} : 0u);
    text += kBase64Url[(chunk >> 18) & 63];
    text += kBase64Url[(chunk >> 12) & 63];
    if (left > 1) text += kBase64Url[(chunk >> 6) & 63];
    if (left > 2) text += kBase64Url[chunk & 63];
  }
  return text;
}

auto Trimmed(std::string text) -> std::string {
  const std::size_t end = text.find_last_not_of(" \t\r\n");
  text.erase(end == std::string::npos ? 0 : end + 1);
  const std::size_t start = text.find_first_not_of(" \t\r\n");
  return start == std::string::npos ? "" : text.substr(start);
}

auto Slot(EndpointSecret& secret, std::string_view file) -> std::string& {
  if (file == "primary") return secret.primary;
  if (file == "secondary") return secret.secondary;
  return secret.signing_key;
}

auto Slot(const EndpointSecret& secret, std::string_view file) -> const std::string& {
  return Slot(const_cast<EndpointSecret&>(secret), file);
}

}  // namespace

auto GenerateKey() -> std::string {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return "";
  return Base64Url(bytes.data(), bytes.size());
}

auto SecretFileNames(std::string_view mode) -> std::vector<std::string> {
  if (mode == "key") return {"primary", "secondary"};
  if (mode == "token") return {"signing-key"};
  return {};
}

auto ReadSecretFolder(const std::string& folder, std::string_view mode, std::string& error)
    -> std::optional<EndpointSecret> {
  EndpointSecret secret;
  secret.mode = std::string(mode);
  for (const std::string& name : SecretFileNames(mode)) {
    std::ifstream in(folder + "/" + name);
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = Trimmed(text.str());
    if (!in || value.empty()) {
      error = "no " + name + " in " + folder;
      return std::nullopt;
    }
    Slot(secret, name) = std::move(value);
  }
  return secret;
}

auto WriteSecretFolder(const std::string& folder, const EndpointSecret& secret, std::string& error)
    -> bool {
  if (!MakeDirectories(folder, error)) return false;
  ::chmod(folder.c_str(), 0700);
  for (const std::string& name : SecretFileNames(secret.mode)) {
    const std::string& value = Slot(secret, name);
    if (value.empty()) continue;
    if (!WriteFileAtomically(folder + "/" + name, value + "\n", error, 0600)) return false;
  }
  return true;
}

}  // namespace ferry::apply
