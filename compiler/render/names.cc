#include "compiler/render/names.h"

#include "compiler/support/sha256.h"

namespace ferry::render {
namespace {

auto IsAlnum(char c) -> bool { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

auto DnsLabel(std::initializer_list<std::string_view> parts, std::size_t max_length)
    -> std::string {
  std::string full;
  for (std::string_view part : parts) {
    if (part.empty()) continue;
    if (!full.empty()) full += '-';
    full += part;
  }
  std::string name;
  for (char c : full) {
    char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    if (IsAlnum(lower)) {
      name += lower;
    } else if (!name.empty() && name.back() != '-') {
      name += '-';
    }
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  // The hash covers the name as written, so "a.b" and "a-b" stay distinct
  // only when one of them had to be shortened; short names read as written.
  const bool changed_meaning = name.empty();
  if (name.size() <= max_length && !changed_meaning) return name;
  const std::string suffix = support::Sha256Hex(full).substr(0, 8);
  if (name.empty()) return "x-" + suffix;
  const std::size_t keep = max_length > suffix.size() + 1 ? max_length - suffix.size() - 1 : 0;
  name.resize(std::min(name.size(), keep));
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name.empty() ? suffix : name + "-" + suffix;
}

auto IsDnsLabel(std::string_view name) -> bool {
  if (name.empty() || name.size() > kMaxDnsLabel) return false;
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) return false;
  for (char c : name) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

}  // namespace ferry::render
