// Shared by the candidate servers: the fixed answer and the port argument.
#pragma once

#include <cstdlib>
#include <string_view>

namespace http_choice {

// ~60 bytes, the size of a one-row scoring answer.
inline constexpr std::string_view kAnswer = R"({"result":[0.4213577509],"model":"ridge","version":"v1"})";

inline auto PortFromArgs(int argc, char** argv) -> int {
  return argc > 1 ? std::atoi(argv[1]) : 8080;
}

// Stands in for parsing: touch every body byte so the read is not optimised away.
inline auto Checksum(std::string_view body) -> unsigned {
  unsigned sum = 0;
  for (char c : body) sum = sum * 31 + static_cast<unsigned char>(c);
  return sum;
}

}  // namespace http_choice
