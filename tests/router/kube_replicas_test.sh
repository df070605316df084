#!/usr/bin/env bash
# KubeReplicas against a real kube-apiserver 1.20 (../shared/tools/kube-apiserver): starts the
# server (one per run; the same lock as render.kube_validate, since the ports are fixed), creates a
# namespace with two Deployments, their Services and one Endpoints object (no pod ever runs there),
# then runs ferry_router_kube_tests with KUBECONFIG, FERRY_KUBE_NS and FERRY_KUBE_SERVING_CERT set.
# usage: tests/router/kube_replicas_test.sh KUBE_TEST_BINARY   (ctest: router.kube_replicas, label
# kube). A missing prerequisite fails the test with what to install; nothing is skipped.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "${here}/../.." && pwd)"
kube_tools="${FERRY_KUBE_TOOLS:-${repo}/../shared/tools/kube-apiserver}"
kube_home="${KUBE_TEST_HOME:-${HOME}/.cache/ferry-kube}"

die() {
  echo "kube_replicas_test: FAIL: $*" >&2
  exit 1
}

[[ $# -eq 1 && -x "$1" ]] || die "usage: kube_replicas_test.sh KUBE_TEST_BINARY (built: $1?)"
binary="$1"
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

# One server per machine (fixed ports): runs of this script and kube_validate.sh wait for each other.
mkdir -p "${kube_home}"
exec 9>"${kube_home}/kube_validate.lock"
flock -w 900 9 || die "${kube_home}/kube_validate.lock was held for 15 min"
if curl -sk --max-time 2 https://127.0.0.1:16443/readyz >/dev/null 2>&1; then
  die "something already listens on 127.0.0.1:16443; stop it with ${kube_tools}/down"
fi
server_started=1
up_output="$("${kube_tools}/up")" || die "the API server did not start: see ${kube_home}/run/apiserver.log"
eval "${up_output}"
[[ -n "${KUBECONFIG:-}" ]] || die "'up' exported no KUBECONFIG"
export KUBECONFIG

ns=ferry-scale-test
deployment() {  # NAME REPLICAS
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: ${ns}}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec: {containers: [{name: serve, image: example.invalid/serve:1, ports: [{name: http, containerPort: 5001}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: ${ns}}
spec:
  selector: {app: $1}
  ports: [{name: http, port: 5001, targetPort: http}]
YAML
}
{
  printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n---\n' "${ns}"
  deployment churn-a 2
  echo "---"
  deployment churn-b 1
  cat <<YAML
---
apiVersion: v1
kind: Endpoints
metadata: {name: churn-a, namespace: ${ns}}
subsets:
- addresses: [{ip: 10.244.0.11}, {ip: 10.244.0.12}]
  notReadyAddresses: [{ip: 10.244.0.13}]
  ports: [{name: http, port: 5001}]
YAML
} | kubectl apply -f - >/dev/null 2>"${kube_home}/run/kubectl.err" \
  || die "kubectl apply failed: $(grep -v 'version difference\|WARNING' "${kube_home}/run/kubectl.err")"

FERRY_KUBE_NS="${ns}" FERRY_KUBE_SERVING_CERT="${kube_home}/run/certs/apiserver.crt" "${binary}"
