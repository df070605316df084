// Line diffs of two texts in the unified format that `diff -u` and `git diff`
// print, for `ferry golden --check` and, later, `plan` and `diff`. The edit
// script is a shortest one (Myers' O(ND) algorithm, linear space), so the
// hunks are the ones a reader expects.
#pragma once

#include <string>
#include <string_view>

namespace ferry::support {

/// The unified diff from `old_text` to `new_text`: "--- old_label" and
/// "+++ new_label" headers, then "@@ -l,s +l,s @@" hunks with `context` lines
/// of context around each change (hunks closer than 2 × context merge). A
/// last line without a newline is marked "\ No newline at end of file".
/// Empty when the texts are equal.
auto UnifiedDiff(std::string_view old_text, std::string_view new_text, std::string_view old_label,
                 std::string_view new_label, int context = 3) -> std::string;

}  // namespace ferry::support
