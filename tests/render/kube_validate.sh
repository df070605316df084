#!/usr/bin/env bash
# Proves that every sample's rendered Kubernetes objects are valid, independently of ferry's
# own code:
#   - a cluster whose declared kubernetes_version is at most 1.20 is checked by a real
#     kube-apiserver 1.20 (../shared/tools/kube-apiserver) with Gateway API's HTTPRoute CRD
#     (crds/) installed: its namespace is created for real, then every object of its folder is
#     `kubectl apply --server-side --dry-run=server`ed, so the server's schema, defaulting and
#     validation (names, labels, selectors, quantities, ...) all run;
#   - a newer cluster is checked with the npm package kubernetes-models (validate_models.mjs).
# Every sample is rendered as written and in three variants: every cluster on Gateway API
# routing (HTTPRoutes, HPAs), every cluster at Kubernetes 1.30, and both; so each validator
# sees each kind of object ferry writes, in both API generations.
# Negative checks run first: objects broken on purpose (kube_invalid/) must be rejected by
# both validators, so the harness is proven able to fail.
#
# usage: tests/render/kube_validate.sh FERRY_BINARY        (ctest: test "render.kube_validate",
#                                                           label "kube")
# A missing prerequisite fails the test with what to install; nothing is skipped.
# Environment: KUBE_TEST_HOME (the tool's, default ~/.cache/ferry-kube), FERRY_KUBE_TOOLS (the
# tool's folder, default <repo>/../shared/tools/kube-apiserver).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
kube_tools="${FERRY_KUBE_TOOLS:-${repo}/../shared/tools/kube-apiserver}"
kube_home="${KUBE_TEST_HOME:-${HOME}/.cache/ferry-kube}"
# The newest minor version the test API server serves; newer clusters go to kubernetes-models.
server_minor=20
newer_version="1.30.0"

die() {
  echo "kube_validate: FAIL: $*" >&2
  exit 1
}

# --- prerequisites ---------------------------------------------------------------------------
[[ $# -eq 1 ]] || die "usage: kube_validate.sh FERRY_BINARY"
ferry="$1"
[[ -x "${ferry}" ]] || die "ferry binary ${ferry} not found (build the ferry target)"
command -v kubectl >/dev/null || die "kubectl not found on PATH"
command -v node >/dev/null || die "node not found on PATH (apt-get install nodejs)"
command -v flock >/dev/null || die "flock not found on PATH (apt-get install util-linux)"
command -v curl >/dev/null || die "curl not found on PATH (apt-get install curl)"
[[ -x "${kube_tools}/up" && -x "${kube_tools}/down" ]] \
  || die "the kube-apiserver tool is not at ${kube_tools} (set FERRY_KUBE_TOOLS)"
[[ -x "${kube_home}/bin/kube-apiserver" ]] \
  || die "no kube-apiserver in ${kube_home}/bin: run ${kube_tools}/build first (about 8 min)"
command -v etcd >/dev/null || die "etcd not found on PATH: run ${kube_tools}/build first"
node "${here}/validate_models.mjs" --cluster-versions "${repo}/samples/faq-matching/ferry.yaml" \
  >/dev/null || die "validate_models.mjs cannot run: run tests/render/install_node_deps.sh"

work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-kube-validate.XXXXXX")"
server_started=0
cleanup() {
  if [[ "${server_started}" -eq 1 ]]; then "${kube_tools}/down" || true; fi
  rm -rf "${work}"
}
trap cleanup EXIT

# --- the API server --------------------------------------------------------------------------
# One server per machine (fixed ports): concurrent runs of this script wait for each other.
mkdir -p "${kube_home}"
exec 9>"${kube_home}/kube_validate.lock"
flock -w 900 9 || die "another kube_validate.sh held ${kube_home}/kube_validate.lock for 15 min"
if curl -sk --max-time 2 https://127.0.0.1:16443/readyz >/dev/null 2>&1; then
  die "something already listens on 127.0.0.1:16443 (an API server started by hand with 'up'?);" \
    "stop it with ${kube_tools}/down"
fi
server_started=1
up_output="$("${kube_tools}/up")" \
  || die "the API server did not start: see ${kube_home}/run/apiserver.log"
eval "${up_output}"
[[ -n "${KUBECONFIG:-}" ]] || die "'up' exported no KUBECONFIG"
export KUBECONFIG

server_alive() {
  curl -sk --max-time 5 https://127.0.0.1:16443/readyz -H "Authorization: Bearer ferry-test-token" \
    >/dev/null 2>&1
}

crash_hint() {
  server_alive && return 0
  echo "kube_validate: the API server died; the end of ${kube_home}/run/apiserver.log:" >&2
  grep -m1 -A12 -E '^(panic|fatal error)' "${kube_home}/run/apiserver.log" >&2 || true
}

for crd in "${here}"/crds/*.yaml; do
  kubectl apply --server-side -f "${crd}" >/dev/null || die "the API server rejected ${crd}"
done
kubectl wait --for=condition=Established --timeout=60s -f "${here}/crds" >/dev/null \
  || die "the CRDs in ${here}/crds did not become established"

# Applies every object of a folder (namespace first, for real), the rest as a server dry run.
# Prints kubectl's output; fails on any rejection.
apply_folder() {
  local folder="$1" namespaces output
  namespaces=("${folder}"/namespace-*.yaml)
  if [[ ! -f "${namespaces[0]}" ]]; then
    echo "${folder}: no namespace-*.yaml (every cluster folder has one)"
    return 1
  fi
  kubectl apply --server-side -f "${namespaces[0]}" 2>&1 || return 1
  output="$(kubectl apply --server-side --dry-run=server -f "${folder}" 2>&1)" \
    || { echo "${output}"; crash_hint; return 1; }
  echo "${output}"
}

# --- negative checks: a broken object must be rejected by both validators ---------------------
kubectl create namespace ferry-negative >/dev/null
for broken in "${here}"/kube_invalid/*.yaml; do
  name="$(basename "${broken}")"
  if output="$(kubectl apply --server-side --dry-run=server -f "${broken}" 2>&1)"; then
    die "the API server accepted ${name}, which is broken on purpose: ${output}"
  fi
  server_alive || { crash_hint; die "the API server died on ${name}"; }
  grep -qE 'is invalid|Invalid value' <<<"${output}" \
    || die "${name} failed for another reason than validation: ${output}"
  echo "negative: API server rejected ${name}:" \
    "$(grep -m1 -oE 'Invalid value: [^:]*:.{0,60}' <<<"${output}")"
  if output="$(node "${here}/validate_models.mjs" "${broken}" 2>&1)"; then
    die "kubernetes-models accepted ${name}, which is broken on purpose: ${output}"
  fi
  grep -q 'rejected:' <<<"${output}" \
    || die "validate_models.mjs failed on ${name} without a rejection: ${output}"
  echo "negative: kubernetes-models rejected ${name}: $(grep -m1 -o 'rejected: .*' <<<"${output}")"
done

# --- every sample, as written and in variants --------------------------------------------
folders_server=0
folders_models=0
httproutes_server=0
httproutes_models=0
failures=0

# Validates the rendered cluster folders of one project. $1: the folder holding ferry.yaml,
# $2: the render output, $3: the project's name in messages.
validate_project() {
  local manifest_dir="$1" out="$2" project="$3" line cluster version minor folder output routes
  while read -r line; do
    cluster="${line%% *}"
    version="${line#* }"
    folder="${out}/kubernetes/${cluster}"
    if [[ ! -d "${folder}" ]]; then
      echo "FAIL ${project}: cluster ${cluster} has no folder ${folder#"${work}/"}"
      failures=$((failures + 1))
      continue
    fi
    [[ "${version}" =~ ^v?1\.([0-9]+) ]] \
      || die "${project}: cluster ${cluster}: unreadable kubernetes_version '${version}'"
    minor="${BASH_REMATCH[1]}"
    if ((minor <= server_minor)); then
      if output="$(apply_folder "${folder}")"; then
        echo "ok   ${project} cluster ${cluster} (${version}): API server accepted" \
          "$(grep -c 'serverside-applied (server dry run)' <<<"${output}") objects"
        folders_server=$((folders_server + 1))
        httproutes_server=$((httproutes_server + $(grep -c '^httproute\.' <<<"${output}" || true)))
      else
        echo "FAIL ${project} cluster ${cluster} (${version}): the API server rejected:"
        grep -v 'serverside-applied' <<<"${output}" | sed 's/^/    /'
        failures=$((failures + 1))
      fi
    else
      if output="$(node "${here}/validate_models.mjs" "${folder}" 2>&1)"; then
        echo "ok   ${project} cluster ${cluster} (${version}): ${output##*$'\n'}"
        folders_models=$((folders_models + 1))
        routes="$(find "${folder}" -name 'httproute-*.yaml' | wc -l)"
        httproutes_models=$((httproutes_models + routes))
      else
        echo "FAIL ${project} cluster ${cluster} (${version}): kubernetes-models rejected:"
        echo "${output}" | sed 's/^/    /'
        failures=$((failures + 1))
      fi
    fi
  done < <(node "${here}/validate_models.mjs" --cluster-versions "${manifest_dir}/ferry.yaml")
}

# Renders one project into $2. Prints why not and returns 1 when it cannot; $3 ("variant")
# turns a refusal with a diagnostic into a note: a variant may ask for what its Kubernetes
# version does not serve (E0701), which is ferry doing its job, not invalid output.
render() {
  local project="$1" out="$2" kind="${3:-sample}" name="${4:-$1}" output
  if ! output="$("${ferry}" render "${project}" -o "${out}" 2>&1)"; then
    if [[ "${kind}" == variant ]] && grep -qE 'error\[E[0-9]{4}\]' <<<"${output}"; then
      echo "note ${name}: not rendered: $(grep -m1 -oE 'error\[E[0-9]{4}\].*' <<<"${output}")"
      return 1
    fi
    echo "FAIL ferry render ${name}:"
    echo "${output}" | sed 's/^/    /'
    failures=$((failures + 1))
    return 1
  fi
  if [[ ! -d "${out}/kubernetes" ]]; then
    echo "FAIL ferry render ${name}: no kubernetes/ folder in its output"
    failures=$((failures + 1))
    return 1
  fi
}

# Copies sample $1 to $2 and edits its clusters: "gateway" (routing: gateway, so HTTPRoutes and
# HPAs are rendered), "newer" (kubernetes_version raised to ${newer_version}).
make_variant() {
  local from="$1" to="$2" edit
  shift 2
  cp -R "${from}" "${to}"
  for edit in "$@"; do
    case "${edit}" in
      newer)
        sed -i -E "s/^( *kubernetes_version: *).*/\\1\"${newer_version}\"/" "${to}/ferry.yaml"
        ;;
      gateway)
        sed -i -E -e '/^ *routing: /d' \
          -e 's/^( *)(kubernetes_version: .*)$/\1\2\n\1routing: gateway/' "${to}/ferry.yaml"
        ;;
    esac
  done
}

# Every sample as written, then three variants of it: on gateway routing, on newer clusters,
# and both. A variant that is not a valid project (an attached cluster must stay at 1.17,
# E0306) says so and is not rendered; the samples themselves must all render.
samples=0
for manifest in "${repo}"/samples/*/ferry.yaml; do
  sample_dir="$(dirname "${manifest}")"
  sample="$(basename "${sample_dir}")"
  samples=$((samples + 1))
  if render "${sample_dir}" "${work}/out/${sample}" sample "${sample}"; then
    validate_project "${sample_dir}" "${work}/out/${sample}" "${sample}"
  fi
  for edits in gateway newer "gateway newer"; do
    name="${sample}+${edits// /+}"
    variant="${work}/variants/${name}"
    mkdir -p "${work}/variants"
    # shellcheck disable=SC2086 # one word per edit
    make_variant "${sample_dir}" "${variant}" ${edits}
    if ! check="$("${ferry}" check "${variant}" 2>&1)"; then
      echo "note ${name}: not a valid project: $(grep -m1 -oE 'error\[.*' <<<"${check}")"
      continue
    fi
    if render "${variant}" "${work}/out/${name}" variant "${name}"; then
      validate_project "${variant}" "${work}/out/${name}" "${name}"
    fi
  done
done

echo "kube_validate: ${folders_server} cluster folders accepted by kube-apiserver" \
  "1.${server_minor} (${httproutes_server} HTTPRoutes), ${folders_models} by kubernetes-models" \
  "(${httproutes_models} HTTPRoutes), ${failures} failed"
((failures == 0)) || die "${failures} rendered projects or cluster folders were rejected"
((samples > 0)) || die "no samples/*/ferry.yaml"
((folders_server > 0)) || die "no cluster folder was checked by the API server"
((folders_models > 0)) || die "no cluster folder was checked by kubernetes-models"
((httproutes_server > 0)) || die "no rendered HTTPRoute was checked by the API server"
((httproutes_models > 0)) || die "no rendered HTTPRoute was checked by kubernetes-models"
