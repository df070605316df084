#!/usr/bin/env bash
# ferry's pull-request checks, for any CI system: run from the root of a
# checkout of the pull request's head, with the base branch fetched.
#
#   1. `ferry check` on every project (every folder holding a ferry.yaml);
#   2. `ferry golden --check` when the repository keeps golden files;
#   3. `ferry diff --format markdown` for every project, from the merge base
#      of BASE and HEAD to HEAD, gathered into one pull-request comment that
#      is written to a file and, when FERRY_POST is set, posted.
#
# usage: ferry-review.sh [BASE [HEAD]]      (default: origin/main HEAD)
#
# environment:
#   FERRY          the ferry binary (default: ferry, on PATH)
#   FERRY_SAMPLES  the folder `ferry golden` renders (default: samples)
#   FERRY_GOLDEN   the golden folder (default: golden; the step is skipped
#                  when it does not exist)
#   FERRY_COMMENT  where the comment is written (default: ferry-diff.md)
#   FERRY_POST     a shell command that reads the comment on stdin and posts
#                  it, e.g. 'gh pr comment "$PR" --body-file -' or
#                  'glab mr note "$MR" --message "$(cat)"'; unset: not posted
#
# exit status: 0 when every step passed (changes are not failures), 1 when a
# check, the golden comparison or a diff failed. The comment is written in
# every case, so a failing pull request still shows what it changes.
set -euo pipefail

base="${1:-origin/main}"
head="${2:-HEAD}"
ferry="${FERRY:-ferry}"
samples="${FERRY_SAMPLES:-samples}"
golden="${FERRY_GOLDEN:-golden}"
comment="${FERRY_COMMENT:-ferry-diff.md}"
status=0

# The review covers what the pull request changes, not what its base
# branch gained since the branch point.
if ! merge_base="$(git merge-base "${base}" "${head}")"; then
  echo "ferry-review: no common ancestor of ${base} and ${head} (fetch the base branch, with history)" >&2
  exit 1
fi

# Every project at either end: one added or removed by the change is reviewed too.
projects="$({
  git ls-tree -r --name-only "${merge_base}"
  git ls-tree -r --name-only "${head}"
} | { grep -E '(^|/)ferry\.yaml$' || true; } | sed -E 's#/?ferry\.yaml$##; s#^$#.#' | sort -u)"

echo "==> ferry check"
while IFS= read -r project; do
  [ -n "${project}" ] || continue
  # A project the change removes has nothing left to check.
  [ -f "${project}/ferry.yaml" ] || continue
  "${ferry}" check "${project}" || status=1
done <<<"${projects}"

if [ -d "${golden}" ]; then
  echo "==> ferry golden --check"
  "${ferry}" golden --check --samples "${samples}" --golden "${golden}" || status=1
fi

echo "==> ferry diff ${merge_base:0:12} ${head}"
{
  # A marker, so a bot can find and update its earlier comment.
  echo "<!-- ferry-diff -->"
  if [ -z "${projects}" ]; then
    echo "ferry: no ferry.yaml in this repository."
  fi
  while IFS= read -r project; do
    [ -n "${project}" ] || continue
    rc=0
    report="$("${ferry}" diff "${merge_base}" "${head}" --path "${project}" --format markdown 2>&1)" || rc=$?
    case "${rc}" in
      0) echo "ferry: no change to \`${project}\`." ;;
      2) printf '%s\n' "${report}" ;;
      *)
        status=1
        printf '**ferry diff failed for `%s`:**\n\n```\n%s\n```\n' "${project}" "${report}"
        ;;
    esac
    echo
  done <<<"${projects}"
} >"${comment}"
echo "wrote ${comment}"

if [ -n "${FERRY_POST:-}" ]; then
  bash -c "${FERRY_POST}" <"${comment}" || status=1
fi
exit "${status}"
