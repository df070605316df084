#include "compiler/support/unified_diff.h"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

namespace ferry::support {
namespace {

// Expected texts below are what GNU diff 3.8 `diff -u --label old --label new` prints.

TEST_CASE("UnifiedDiff is empty for equal texts") {
  CHECK(UnifiedDiff("", "", "old", "new") == "");
  CHECK(UnifiedDiff("a\nb\n", "a\nb\n", "old", "new") == "");
}

TEST_CASE("UnifiedDiff writes separate hunks with three lines of context") {
  const std::string old_text = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\n";
  const std::string new_text = "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn";
  CHECK(UnifiedDiff(old_text, new_text, "old", "new") ==
        "--- old\n+++ new\n"
        "@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        "@@ -11,3 +11,4 @@\n k\n l\n m\n+n\n\\ No newline at end of file\n");
}

TEST_CASE("UnifiedDiff merges hunks whose context would touch") {
  // Six equal lines between the changes: one hunk, as diff -u does.
  CHECK(UnifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n", "X\n2\n3\n4\n5\n6\n7\nY\n", "old", "new") ==
        "--- old\n+++ new\n"
        "@@ -1,8 +1,8 @@\n-1\n+X\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+Y\n");
  // Seven: two hunks.
  CHECK(UnifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "X\n2\n3\n4\n5\n6\n7\n8\nY\n", "old", "new") ==
        "--- old\n+++ new\n"
        "@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
        "@@ -6,4 +6,4 @@\n 6\n 7\n 8\n-9\n+Y\n");
}

TEST_CASE("UnifiedDiff writes empty ranges as diff -u does") {
  CHECK(UnifiedDiff("", "x\n", "old", "new") == "--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n");
  CHECK(UnifiedDiff("x\n", "", "old", "new") == "--- old\n+++ new\n@@ -1 +0,0 @@\n-x\n");
  CHECK(UnifiedDiff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "0\n1\n2\n3\n4\n5\n6\n7\n8\n9\n", "old",
                    "new") == "--- old\n+++ new\n@@ -1,3 +1,4 @@\n+0\n 1\n 2\n 3\n");
  CHECK(UnifiedDiff("a\nb\n", "a\nb\nc\n", "old", "new") ==
        "--- old\n+++ new\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
}

TEST_CASE("UnifiedDiff tells a missing final newline apart") {
  CHECK(UnifiedDiff("a\n", "a", "old", "new") ==
        "--- old\n+++ new\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
}

TEST_CASE("UnifiedDiff with no context writes only the changed lines") {
  CHECK(UnifiedDiff("a\nb\nc\n", "a\nB\nc\n", "x", "y", 0) ==
        "--- x\n+++ y\n@@ -2 +2 @@\n-b\n+B\n");
}

// Rebuilds the old and the new text from a diff with enough context to
// cover everything, and counts the changed lines.
struct Replayed {
  std::string old_text;
  std::string new_text;
  int changes = 0;
};

auto Replay(const std::string& diff) -> Replayed {
  Replayed out;
  std::size_t pos = 0;
  while (pos < diff.size()) {
    const std::size_t end = diff.find('\n', pos);
    const std::string line = diff.substr(pos, end - pos);
    pos = end + 1;
    if (line.starts_with("---") || line.starts_with("+++") || line.starts_with("@@")) continue;
    const std::string body = line.substr(1) + "\n";
    if (line[0] != '+') out.old_text += body;
    if (line[0] != '-') out.new_text += body;
    if (line[0] != ' ') ++out.changes;
  }
  return out;
}

auto LcsLength(const std::vector<std::string>& a, const std::vector<std::string>& b) -> int {
  std::vector<std::vector<int>> table(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      table[i][j] = a[i - 1] == b[j - 1] ? table[i - 1][j - 1] + 1
                                         : std::max(table[i - 1][j], table[i][j - 1]);
    }
  }
  return table[a.size()][b.size()];
}

TEST_CASE("UnifiedDiff finds a shortest edit script (random texts against an LCS table)") {
  std::mt19937 random(20240611);
  for (int round = 0; round < 400; ++round) {
    // Few distinct lines, so the texts share many of them in many ways.
    auto text = [&random](std::vector<std::string>& lines) {
      const int count = static_cast<int>(random() % 30);
      std::string out;
      for (int i = 0; i < count; ++i) {
        lines.push_back(std::string(1, static_cast<char>('a' + random() % 4)));
        out += lines.back() + "\n";
      }
      return out;
    };
    std::vector<std::string> old_lines;
    std::vector<std::string> new_lines;
    const std::string old_text = text(old_lines);
    const std::string new_text = text(new_lines);
    const std::string diff = UnifiedDiff(old_text, new_text, "a", "b", 1000);
    CAPTURE(old_text);
    CAPTURE(new_text);
    if (old_text == new_text) {
      CHECK(diff == "");
      continue;
    }
    const Replayed replayed = Replay(diff);
    CHECK(replayed.old_text == old_text);
    CHECK(replayed.new_text == new_text);
    const int lcs = LcsLength(old_lines, new_lines);
    CHECK(replayed.changes == static_cast<int>(old_lines.size() + new_lines.size()) - 2 * lcs);
  }
}

}  // namespace
}  // namespace ferry::support
