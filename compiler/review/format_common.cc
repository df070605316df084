// Spellings the three printers share, so the terminal and the pull-request
// comment say the same thing in the same words.
#include <string>
#include <vector>

#include "compiler/review/compare.h"

namespace ferry::review::detail {
namespace {

auto ShareText(const std::optional<double>& share) -> std::string {
  return share ? Percent(*share) : "—";
}

// "default moved a → b", "control set to b", "control unset (was a)".
auto Move(std::string_view what, const std::string& before, const std::string& after)
    -> std::string {
  if (before == after) return "";
  if (before.empty()) return std::string(what) + " set to " + after;
  if (after.empty()) return std::string(what) + " unset (was " + before + ")";
  return std::string(what) + " moved " + before + " → " + after;
}

}  // namespace

auto TrafficLine(const TrafficChange& change) -> std::string {
  std::string line;
  for (const TrafficShare& share : change.shares) {
    if (!line.empty()) line += ", ";
    line += share.version;
    if (!share.old_version.empty()) line += " (was " + share.old_version + ")";
    line += ": " + ShareText(share.before) + " → " + ShareText(share.after);
  }
  std::vector<std::string> notes;
  for (std::string note : {Move("default", change.default_before, change.default_after),
                           Move("control", change.control_before, change.control_after)}) {
    if (!note.empty()) notes.push_back(std::move(note));
  }
  if (change.base_present && !change.base_resolved) notes.push_back("BASE's split is unresolved");
  if (change.head_present && !change.head_resolved) notes.push_back("HEAD's split is unresolved");
  if (!change.base_present) notes.push_back("new endpoint");
  if (!change.head_present) notes.push_back("endpoint removed");
  std::string joined;
  for (const std::string& note : notes) joined += (joined.empty() ? "" : ", ") + note;
  if (joined.empty()) return line;
  return line.empty() ? "(" + joined + ")" : line + " (" + joined + ")";
}

auto DisplayValue(std::string_view value, std::size_t max) -> std::string {
  if (value.empty()) return "—";
  std::string text;
  for (char c : value) {
    if (c == '\n') {
      text += "\\n";
    } else {
      text += c;
    }
  }
  if (text.size() <= max) return text;
  std::size_t cut = max;
  // Never split a UTF-8 sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "…";
}

auto SideName(const std::string& revision, const std::string& commit) -> std::string {
  const std::string name = revision.empty() ? "(none)" : revision;
  if (commit.empty()) return name;
  return name + " (" + ShortHash(commit) + ")";
}

}  // namespace ferry::review::detail
