#!/usr/bin/env bash
# Fixes two faults of the kube-apiserver that ../shared/tools/kube-apiserver/build makes (Kubernetes
# 1.20.2 compiled with Debian 12's Go 1.19), then rebuilds it with that same build. Both break
# custom resources, so the Gateway API HTTPRoutes of kube_validate.sh; built-in kinds are fine.
#   1. reflect2: build checks for its fix with `grep 'it \*hiter)'`, which the unfixed
#      `func mapiternext(it *hiter)` line already matches, so patch_reflect2.py never runs and
#      the server crashes (SIGSEGV in mapiterinit) on the first custom resource it decodes.
#   2. kube-openapi's type check treats a value equal to its type's zero value as null
#      (`reflect.DeepEqual(reflect.Zero(T), reflect.ValueOf(v))`). Under Go 1.15, which 1.20
#      was released with, that never held for decoded JSON (reflect.Zero allocated), so only a
#      JSON null was null; under Go 1.19 both values share the runtime's zero buffer and every
#      "" fails `type: string` ("Invalid value: \"null\": must be of type string"), in custom
#      resources and in CRD defaults alike. The fix restores the 1.20 behaviour: only nil is null.
# Idempotent: does nothing (no rebuild) when both fixes are in the source. Remove this script
# once the tool's build applies them itself.
# usage: tests/render/patch_kube_apiserver.sh       (after the tool's build; .ci/run runs it)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
tools="${FERRY_KUBE_TOOLS:-${repo}/../shared/tools/kube-apiserver}"
home="${KUBE_TEST_HOME:-${HOME}/.cache/ferry-kube}"
source_dir="${home}/src/k8s"
if [[ ! -d "${source_dir}/vendor" ]]; then
  echo "patch_kube_apiserver: no source in ${source_dir}: run ${tools}/build first" >&2
  exit 1
fi

changed=0
reflect2="${source_dir}/vendor/github.com/modern-go/reflect2/unsafe_link.go"
if ! grep -q 'm unsafe.Pointer, it \*hiter)' "${reflect2}"; then
  /usr/bin/python3 "${tools}/patch_reflect2.py" "${source_dir}"
  echo "patch_kube_apiserver: applied the reflect2 fix"
  changed=1
fi

zero_check='data == nil || reflect.DeepEqual(reflect.Zero(reflect.TypeOf(data)), '
zero_check+='reflect.ValueOf(data))'
for file in vendor/k8s.io/kube-openapi/pkg/validation/validate/type.go \
  vendor/github.com/go-openapi/validate/type.go; do
  if grep -qF "${zero_check}" "${source_dir}/${file}"; then
    ZERO_CHECK="${zero_check}" perl -pi -e 's/\Q$ENV{ZERO_CHECK}\E/data == nil/' \
      "${source_dir}/${file}"
    echo "patch_kube_apiserver: only nil is null in ${file}"
    changed=1
  fi
done

if ((changed)); then
  echo "patch_kube_apiserver: rebuilding kube-apiserver (a few minutes, Go's cache is warm)"
  rm -f "${home}/bin/kube-apiserver"
  "${tools}/build"
else
  echo "patch_kube_apiserver: kube-apiserver already has both fixes"
fi
