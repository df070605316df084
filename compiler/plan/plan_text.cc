// The plan as people read it (`ferry plan`, and `ferry apply` before it asks):
// one block per action in the order apply runs them, field values as their
// JSON, long ones shortened, multi-line text changes as a line diff.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/plan/plan.h"
#include "compiler/support/unified_diff.h"

namespace ferry::plan {
namespace {

// A create lists at most this many fields; Kubernetes objects have hundreds.
constexpr std::size_t kCreateFieldLines = 12;
// Longer values are cut: a plan line stays one screen line.
constexpr std::size_t kValueWidth = 72;
constexpr std::size_t kDigestPrefix = 12;
constexpr std::string_view kEllipsis = "…";
constexpr std::string_view kAbsent = "(none)";

struct Style {
  bool color = false;
  auto Paint(std::string_view text, std::string_view code) const -> std::string {
    if (!color) return std::string(text);
    return fmt::format("\x1b[{}m{}\x1b[0m", code, text);
  }
};

auto Symbol(ActionKind kind, const Style& style) -> std::string {
  switch (kind) {
    case ActionKind::Create:
      return style.Paint("+", "32");
    case ActionKind::Update:
      return style.Paint("~", "33");
    case ActionKind::Replace:
      return style.Paint("-/+", "35");
    case ActionKind::Delete:
      return style.Paint("-", "31");
  }
  return "?";
}

auto IsDigest(std::string_view text) -> bool {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// Cuts `text` at a character boundary (never inside a UTF-8 sequence).
auto Cut(std::string_view text, std::size_t width) -> std::string {
  while (width > 0 && width < text.size() &&
         (static_cast<unsigned char>(text[width]) & 0xC0) == 0x80) {
    --width;
  }
  return std::string(text.substr(0, width));
}

// A value as a plan line shows it: digests by their first hex digits, long
// values cut with an ellipsis.
auto Shown(const std::optional<std::string>& value) -> std::string {
  if (!value) return std::string(kAbsent);
  const std::string& text = *value;
  if (text.size() == 66 && text.front() == '"' && IsDigest(std::string_view(text).substr(1, 64))) {
    return "\"" + text.substr(1, kDigestPrefix) + std::string(kEllipsis) + "\"";
  }
  if (text.size() <= kValueWidth) return text;
  return Cut(text, kValueWidth - 1) + std::string(kEllipsis);
}

// The text of a JSON string value holding more than one line, else nullopt.
auto MultiLine(const std::optional<std::string>& value) -> std::optional<std::string> {
  if (!value || value->find("\\n") == std::string::npos) return std::nullopt;
  const nlohmann::json json = nlohmann::json::parse(*value, nullptr, false);
  if (!json.is_string()) return std::nullopt;
  return json.get<std::string>();
}

auto Padded(std::string_view field, std::size_t width) -> std::string {
  std::string label = std::string(field) + ":";
  label.resize(std::max(label.size(), width + 1), ' ');
  return label;
}

constexpr std::string_view kFieldIndent = "      ";

void AppendCreateFields(const Resource& resource, std::string& out) {
  std::size_t width = 0;
  std::size_t shown = 0;
  for (const auto& [field, value] : resource.attributes) {
    if (shown++ == kCreateFieldLines) break;
    width = std::max(width, field.size());
  }
  shown = 0;
  for (const auto& [field, value] : resource.attributes) {
    if (shown == kCreateFieldLines) {
      out += fmt::format("{}{} and {} more\n", kFieldIndent, kEllipsis,
                         resource.attributes.size() - shown);
      break;
    }
    out += fmt::format("{}{} {}\n", kFieldIndent, Padded(field, width), Shown(value));
    ++shown;
  }
}

// A multi-line text field (a ConfigMap's routes.yaml) as a unified diff of its lines.
void AppendTextDiff(const std::string& before, const std::string& after, std::string& out) {
  const std::string diff = support::UnifiedDiff(before, after, "before", "after", 1);
  std::size_t start = 0;
  while (start < diff.size()) {
    std::size_t end = diff.find('\n', start);
    if (end == std::string::npos) end = diff.size();
    const std::string_view line = std::string_view(diff).substr(start, end - start);
    start = end + 1;
    if (line.starts_with("--- ") || line.starts_with("+++ ")) continue;
    out += fmt::format("{}    {}\n", kFieldIndent, line);
  }
}

void AppendChanges(const Action& action, const Style& style, std::string& out) {
  std::size_t width = 0;
  for (const FieldChange& change : action.changes) width = std::max(width, change.field.size());
  for (const FieldChange& change : action.changes) {
    const std::string note =
        change.forces_replacement ? "   " + style.Paint("# forces replacement", "35") : "";
    const std::optional<std::string> before_text = MultiLine(change.before);
    const std::optional<std::string> after_text = MultiLine(change.after);
    if (before_text && after_text) {
      out += fmt::format("{}{} (text, changed lines){}\n", kFieldIndent,
                         Padded(change.field, width), note);
      AppendTextDiff(*before_text, *after_text, out);
      continue;
    }
    out += fmt::format("{}{} {} -> {}{}\n", kFieldIndent, Padded(change.field, width),
                       Shown(change.before), Shown(change.after), note);
  }
}

void AppendAction(const Action& action, const Style& style, std::string& out) {
  out += fmt::format("  {} {}", Symbol(action.kind, style), action.address);
  if (!action.reason.empty()) out += fmt::format(" ({})", action.reason);
  out += '\n';
  if (action.kind == ActionKind::Create && action.desired) {
    AppendCreateFields(*action.desired, out);
  } else if (action.kind == ActionKind::Update || action.kind == ActionKind::Replace) {
    AppendChanges(action, style, out);
  }
}

}  // namespace

auto FormatPlanText(const Plan& plan, bool color) -> std::string {
  if (!plan.HasChanges()) return "No changes. What runs matches the manifest.\n";
  const Style style{.color = color};
  std::string out =
      fmt::format("ferry will perform these actions (executor {}):\n\n", plan.executor);
  for (const Action& action : plan.actions) AppendAction(action, style, out);
  out += '\n';
  out += SummaryLine(plan);
  out += '\n';
  return out;
}

}  // namespace ferry::plan
