#!/usr/bin/env bash
# The render benchmark, in one run: a generated project of 1,000 endpoints x 3 versions on one
# cluster (make_project.py); `ferry render` on it, then `kubectl kustomize` over the same
# Kubernetes objects (a kustomization.yaml listing every rendered object file). Prints each
# one's median wall time and peak RSS, and the ratio (target: ferry at least 10x faster).
#
# usage: bench/render/run.sh [FERRY_BINARY] [RUNS]      (defaults: build/ferry, 5)
# Environment: ENDPOINTS (default 1000), KUSTOMIZE_RUNS (default 3: one run of kustomize over
# the 1,000-endpoint project takes minutes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
ferry="$(realpath "${1:-${repo}/build/ferry}")"
runs="${2:-5}"
endpoints="${ENDPOINTS:-1000}"
kustomize_runs="${KUSTOMIZE_RUNS:-3}"
measure=(/usr/bin/python3 "${here}/measure.py")

[[ -x "${ferry}" ]] || { echo "run.sh: no ferry binary at ${ferry}; build it first" >&2; exit 1; }
command -v kubectl >/dev/null || { echo "run.sh: kubectl not found" >&2; exit 1; }

# The work folder is on tmpfs where there is one: on this ext4 disk, creating a few thousand
# files right after deleting as many costs ~1 ms of kernel time each (discard), whatever the
# program, which would time the disk rather than the renderer. BENCH_TMPDIR=/tmp uses disk.
bench_tmp="${BENCH_TMPDIR:-/dev/shm}"
[[ -d "${bench_tmp}" && -w "${bench_tmp}" ]] || bench_tmp="${TMPDIR:-/tmp}"
work="$(mktemp -d "${bench_tmp}/ferry-render-bench.XXXXXX")"
trap 'rm -rf "${work}"' EXIT

/usr/bin/python3 "${here}/make_project.py" "${work}/project" --endpoints "${endpoints}"
"${ferry}" check "${work}/project" >/dev/null

# ferry render writes every output (objects, image plans, bundles) into OUT.
ferry_result="$("${measure[@]}" "${runs}" "${ferry}" render "${work}/project" -o "${work}/out")"

# kustomize builds the same objects from a copy, so its folder holds nothing else.
objects_dir="${work}/out/kubernetes/bench"
[[ -d "${objects_dir}" ]] || { echo "run.sh: ferry wrote no ${objects_dir}" >&2; exit 1; }
mkdir -p "${work}/kustomize"
cp -R "${objects_dir}" "${work}/kustomize/bench"
objects=0
{
  echo "apiVersion: kustomize.config.k8s.io/v1beta1"
  echo "kind: Kustomization"
  echo "resources:"
  for file in "${work}"/kustomize/bench/*.yaml; do
    echo "- bench/$(basename "${file}")"
    objects=$((objects + 1))
  done
} >"${work}/kustomize/kustomization.yaml"
kustomize_result="$("${measure[@]}" --stdout "${work}/kustomized.yaml" "${kustomize_runs}" \
  kubectl kustomize "${work}/kustomize")"
# Same objects out as in: kustomize emits one document per resource.
emitted="$(grep -c '^kind: ' "${work}/kustomized.yaml")"
[[ "${emitted}" -eq "${objects}" ]] \
  || { echo "run.sh: kustomize emitted ${emitted} objects of ${objects}" >&2; exit 1; }

field() { sed -E "s/.*$1=([^ ]+).*/\\1/" <<<"$2"; }
ferry_s="$(field median_s "${ferry_result}")"
kustomize_s="$(field median_s "${kustomize_result}")"
files="$(find "${work}/out" -type f | wc -l)"

echo "render benchmark: ${endpoints} endpoints x 3 versions, ${objects} Kubernetes objects" \
  "(${files} files rendered in all); median of ${runs} ferry runs, ${kustomize_runs} kustomize" \
  "runs; work folder ${bench_tmp}"
printf '  ferry render      %8.3f s   peak RSS %7d KiB   (%s)\n' "${ferry_s}" \
  "$(field peak_rss_kib "${ferry_result}")" "$("${ferry}" --version 2>/dev/null || echo ferry)"
printf '  kubectl kustomize %8.3f s   peak RSS %7d KiB   (%s)\n' "${kustomize_s}" \
  "$(field peak_rss_kib "${kustomize_result}")" \
  "$(kubectl version --client 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')"
awk -v f="${ferry_s}" -v k="${kustomize_s}" 'BEGIN {
  r = k / f
  verdict = r >= 10 ? "met" : "NOT met"
  printf "  ratio: ferry is %.1fx faster than kustomize (target >= 10x: %s)\n", r, verdict
}'
