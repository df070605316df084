// SHA-256 through OpenSSL (a well-kept library beats a hand-written digest).
#pragma once

#include <string>
#include <string_view>

namespace ferry::support {

/// The SHA-256 of `bytes` as 64 lower-case hex digits.
auto Sha256Hex(std::string_view bytes) -> std::string;

}  // namespace ferry::support
