// Names for rendered objects: Kubernetes wants DNS-1123 labels (lower-case
// alphanumerics and '-', starting and ending alphanumeric, at most 63
// characters). Every shortening is deterministic, with a hash of the full
// name so two long names never collide.
#pragma once

#include <string>
#include <string_view>

namespace ferry::render {

inline constexpr std::size_t kMaxDnsLabel = 63;

/// Joins `parts` with '-', lower-cases, maps every other character to '-',
/// squeezes and trims dashes. When the result is longer than `max_length`,
/// keeps a prefix and appends '-' and 8 hex digits of the sha256 of the
/// full name. Never empty: a name with no usable character becomes "x-HASH".
auto DnsLabel(std::initializer_list<std::string_view> parts, std::size_t max_length = kMaxDnsLabel)
    -> std::string;

/// Whether `name` is a valid DNS-1123 label.
auto IsDnsLabel(std::string_view name) -> bool;

}  // namespace ferry::render
