#include "compiler/support/unified_diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace ferry::support {
namespace {

// Lines keep their '\n', so a last line without one differs from the same
// line with one (as in diff -u).
auto SplitLines(std::string_view text) -> std::vector<std::string_view> {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::size_t length = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(0, length));
    text.remove_prefix(length);
  }
  return lines;
}

// Marks which lines of `a` are deleted and which of `b` are inserted in a
// shortest edit script: Myers' divide and conquer on the middle snake, so
// memory stays linear in the texts' length.
class Differ {
 public:
  Differ(const std::vector<int>& a, const std::vector<int>& b)
      : a_(a), b_(b), deleted_(a.size(), false), inserted_(b.size(), false) {}

  void Run() { Compare(0, static_cast<int>(a_.size()), 0, static_cast<int>(b_.size())); }
  auto deleted() const -> const std::vector<bool>& { return deleted_; }
  auto inserted() const -> const std::vector<bool>& { return inserted_; }

 private:
  void Compare(int a_lo, int a_hi, int b_lo, int b_hi) {
    while (a_lo < a_hi && b_lo < b_hi && a_[a_lo] == b_[b_lo]) ++a_lo, ++b_lo;
    while (a_lo < a_hi && b_lo < b_hi && a_[a_hi - 1] == b_[b_hi - 1]) --a_hi, --b_hi;
    if (a_lo == a_hi || b_lo == b_hi) {
      for (int i = a_lo; i < a_hi; ++i) deleted_[i] = true;
      for (int j = b_lo; j < b_hi; ++j) inserted_[j] = true;
      return;
    }
    const std::optional<std::pair<int, int>> split = MiddleSnake(a_lo, a_hi, b_lo, b_hi);
    const int n = a_hi - a_lo;
    const int m = b_hi - b_lo;
    if (!split || (split->first == 0 && split->second == 0) ||
        (split->first == n && split->second == m)) {
      // No shared line on any shortest path: everything changed.
      for (int i = a_lo; i < a_hi; ++i) deleted_[i] = true;
      for (int j = b_lo; j < b_hi; ++j) inserted_[j] = true;
      return;
    }
    Compare(a_lo, a_lo + split->first, b_lo, b_lo + split->second);
    Compare(a_lo + split->first, a_hi, b_lo + split->second, b_hi);
  }

  // A point (x, y), relative to (a_lo, b_lo), where a shortest edit path
  // crosses the middle: the greedy search runs forward from the start and
  // backward from the end, one edit at a time, until the two frontiers
  // overlap on a diagonal (Myers 1986, section 4b; the bookkeeping follows
  // diff-match-patch's bisect). nullopt when they never do.
  auto MiddleSnake(int a_lo, int a_hi, int b_lo, int b_hi) const
      -> std::optional<std::pair<int, int>> {
    const int n = a_hi - a_lo;
    const int m = b_hi - b_lo;
    const int max_d = (n + m + 1) / 2;
    const int offset = max_d;
    const int length = 2 * max_d + 2;
    // forward[offset + k]: the furthest x reached on diagonal k = x - y;
    // backward likewise, counted from the ends of both ranges.
    std::vector<int> forward(length, -1);
    std::vector<int> backward(length, -1);
    forward[offset + 1] = 0;
    backward[offset + 1] = 0;
    const int delta = n - m;
    // With an odd delta the frontiers meet during a forward step, else a backward one.
    const bool check_forward = delta % 2 != 0;
    // Diagonals that left the edit graph are not searched again.
    int forward_start = 0;
    int forward_end = 0;
    int backward_start = 0;
    int backward_end = 0;
    for (int d = 0; d < max_d; ++d) {
      for (int k = -d + forward_start; k <= d - forward_end; k += 2) {
        const int at = offset + k;
        int x = (k == -d || (k != d && forward[at - 1] < forward[at + 1])) ? forward[at + 1]
                                                                           : forward[at - 1] + 1;
        int y = x - k;
        while (x < n && y < m && a_[a_lo + x] == b_[b_lo + y]) ++x, ++y;
        forward[at] = x;
        if (x > n) {
          forward_end += 2;
        } else if (y > m) {
          forward_start += 2;
        } else if (check_forward) {
          const int other = offset + delta - k;
          if (other >= 0 && other < length && backward[other] != -1 && x >= n - backward[other]) {
            return std::pair{x, y};
          }
        }
      }
      for (int k = -d + backward_start; k <= d - backward_end; k += 2) {
        const int at = offset + k;
        int x = (k == -d || (k != d && backward[at - 1] < backward[at + 1])) ? backward[at + 1]
                                                                             : backward[at - 1] + 1;
        int y = x - k;
        while (x < n && y < m && a_[a_hi - 1 - x] == b_[b_hi - 1 - y]) ++x, ++y;
        backward[at] = x;
        if (x > n) {
          backward_end += 2;
        } else if (y > m) {
          backward_start += 2;
        } else if (!check_forward) {
          const int other = offset + delta - k;
          if (other >= 0 && other < length && forward[other] != -1) {
            const int forward_x = forward[other];
            if (forward_x >= n - x) return std::pair{forward_x, offset + forward_x - other};
          }
        }
      }
    }
    return std::nullopt;
  }

  const std::vector<int>& a_;
  const std::vector<int>& b_;
  std::vector<bool> deleted_;
  std::vector<bool> inserted_;
};

enum class Op { Equal, Delete, Insert };

struct Edit {
  Op op;
  int a;  ///< line index in the old text (Equal, Delete)
  int b;  ///< line index in the new text (Equal, Insert)
};

auto EditScript(const std::vector<std::string_view>& old_lines,
                const std::vector<std::string_view>& new_lines) -> std::vector<Edit> {
  // Lines as small integers, so the search compares ints, not strings.
  std::map<std::string_view, int> ids;
  auto intern = [&ids](const std::vector<std::string_view>& lines) {
    std::vector<int> out;
    out.reserve(lines.size());
    for (std::string_view line : lines) {
      out.push_back(ids.emplace(line, static_cast<int>(ids.size())).first->second);
    }
    return out;
  };
  const std::vector<int> a = intern(old_lines);
  const std::vector<int> b = intern(new_lines);
  Differ differ(a, b);
  differ.Run();

  std::vector<Edit> edits;
  int i = 0;
  int j = 0;
  const int n = static_cast<int>(a.size());
  const int m = static_cast<int>(b.size());
  while (i < n || j < m) {
    if (i < n && differ.deleted()[i]) {
      edits.push_back({Op::Delete, i++, j});
    } else if (j < m && differ.inserted()[j]) {
      edits.push_back({Op::Insert, i, j++});
    } else {
      edits.push_back({Op::Equal, i++, j++});
    }
  }
  return edits;
}

// "l,s" as diff -u writes a range: the count is left out when it is 1, and
// an empty range starts at the line before it.
auto Range(int first, int count) -> std::string {
  if (count == 1) return fmt::format("{}", first + 1);
  return fmt::format("{},{}", count == 0 ? first : first + 1, count);
}

void AppendLine(std::string& out, char mark, std::string_view line) {
  out += mark;
  out += line;
  if (!line.ends_with('\n')) out += "\n\\ No newline at end of file\n";
}

}  // namespace

auto UnifiedDiff(std::string_view old_text, std::string_view new_text, std::string_view old_label,
                 std::string_view new_label, int context) -> std::string {
  if (old_text == new_text) return "";
  const std::vector<std::string_view> old_lines = SplitLines(old_text);
  const std::vector<std::string_view> new_lines = SplitLines(new_text);
  const std::vector<Edit> edits = EditScript(old_lines, new_lines);
  context = std::max(context, 0);

  std::string out = fmt::format("--- {}\n+++ {}\n", old_label, new_label);
  const int total = static_cast<int>(edits.size());
  int next = 0;
  while (next < total) {
    // The next change starts a hunk; it grows while the following change is
    // at most 2 × context equal lines away.
    int first_change = next;
    while (first_change < total && edits[first_change].op == Op::Equal) ++first_change;
    if (first_change == total) break;
    int last_change = first_change;
    for (int k = first_change + 1; k < total; ++k) {
      if (edits[k].op == Op::Equal) continue;
      if (k - last_change - 1 > 2 * context) break;
      last_change = k;
    }
    const int begin = std::max(first_change - context, next);
    const int end = std::min(last_change + context + 1, total);

    int old_count = 0;
    int new_count = 0;
    for (int k = begin; k < end; ++k) {
      if (edits[k].op != Op::Insert) ++old_count;
      if (edits[k].op != Op::Delete) ++new_count;
    }
    out += fmt::format("@@ -{} +{} @@\n", Range(edits[begin].a, old_count),
                       Range(edits[begin].b, new_count));
    for (int k = begin; k < end; ++k) {
      const Edit& edit = edits[k];
      if (edit.op == Op::Equal) AppendLine(out, ' ', old_lines[edit.a]);
      if (edit.op == Op::Delete) AppendLine(out, '-', old_lines[edit.a]);
      if (edit.op == Op::Insert) AppendLine(out, '+', new_lines[edit.b]);
    }
    next = end;
  }
  return out;
}

}  // namespace ferry::support
