#!/usr/bin/env bash
# The Kubernetes executor against a real kube-apiserver 1.20 (../shared/tools/kube-apiserver):
# starts the server (one per machine: the same lock as render.kube_validate, since the ports are
# fixed), installs Gateway API's HTTPRoute CRD (tests/render/crds), then runs
# ferry_apply_kube_tests (tests/apply/kubernetes_apply_kubetest.cc) with KUBECONFIG set.
# usage: tests/apply/kubernetes_apply_test.sh KUBE_TEST_BINARY   (ctest: apply.kubernetes, label
# kube). A missing prerequisite fails the test with what to install; nothing is skipped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
kube_tools="${FERRY_KUBE_TOOLS:-${repo}/../shared/tools/kube-apiserver}"
kube_home="${KUBE_TEST_HOME:-${HOME}/.cache/ferry-kube}"

die() {
  echo "kubernetes_apply_test: FAIL: $*" >&2
  exit 1
}

[[ $# -ge 1 && -x "$1" ]] || die "usage: kubernetes_apply_test.sh KUBE_TEST_BINARY [doctest args]"
binary="$1"
shift
command -v kubectl >/dev/null || die "kubectl not found on PATH"
command -v flock >/dev/null || die "flock not found on PATH (apt-get install util-linux)"
command -v curl >/dev/null || die "curl not found on PATH (apt-get install curl)"
[[ -x "${kube_tools}/up" && -x "${kube_tools}/down" ]] \
  || die "the kube-apiserver tool is not at ${kube_tools} (set FERRY_KUBE_TOOLS)"
[[ -x "${kube_home}/bin/kube-apiserver" ]] \
  || die "no kube-apiserver in ${kube_home}/bin: run ${kube_tools}/build first (about 8 min)"
command -v etcd >/dev/null || die "etcd not found on PATH: run ${kube_tools}/build first"

server_started=0
cleanup() {
  if [[ "${server_started}" -eq 1 ]]; then "${kube_tools}/down" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

mkdir -p "${kube_home}"
exec 9>"${kube_home}/kube_validate.lock"
flock -w 900 9 || die "${kube_home}/kube_validate.lock was held for 15 min"
if curl -sk --max-time 2 https://127.0.0.1:16443/readyz >/dev/null 2>&1; then
  die "something already listens on 127.0.0.1:16443; stop it with ${kube_tools}/down"
fi
server_started=1
up_output="$("${kube_tools}/up")" \
  || die "the API server did not start: see ${kube_home}/run/apiserver.log"
eval "${up_output}"
[[ -n "${KUBECONFIG:-}" ]] || die "'up' exported no KUBECONFIG"
export KUBECONFIG

for crd in "${repo}"/tests/render/crds/*.yaml; do
  kubectl apply --server-side -f "${crd}" >/dev/null 2>"${kube_home}/run/kubectl.err" \
    || die "the API server rejected ${crd}: $(grep -v WARNING "${kube_home}/run/kubectl.err")"
done
kubectl wait --for=condition=Established --timeout=60s -f "${repo}/tests/render/crds" >/dev/null \
  2>&1 || die "the CRDs in tests/render/crds did not become established"

"${binary}" "$@"
