#!/usr/bin/env bash
# Installs the npm packages validate_models.mjs needs into <repo>/.cache/node (ignored by git),
# at pinned versions. Does nothing when they are already there at those versions.
# usage: tests/render/install_node_deps.sh
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
prefix="${repo}/.cache/node"
packages=(kubernetes-models@5.1.0 @kubernetes-models/gateway-api@2.0.0 yaml@2.9.1)

installed() {
  local spec name version
  for spec in "${packages[@]}"; do
    name="${spec%@*}"
    version="${spec##*@}"
    [[ -f "${prefix}/node_modules/${name}/package.json" ]] || return 1
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
      "${prefix}/node_modules/${name}/package.json" "${version}" || return 1
  done
}

if ! command -v npm >/dev/null; then
  echo "install_node_deps: npm not found (apt-get install nodejs npm)" >&2
  exit 1
fi
if installed; then
  echo "node packages ready in ${prefix}"
  exit 0
fi
mkdir -p "${prefix}"
# kubernetes-models declares node >= 22; its validators run on this machine's node 20 too
# (tests/render/kube_validate.sh proves it on every run), so the engine warning is expected.
npm install --prefix "${prefix}" --ignore-scripts --no-audit --no-fund --loglevel=error \
  "${packages[@]}"
installed || { echo "install_node_deps: packages missing after npm install" >&2; exit 1; }
echo "node packages ready in ${prefix}"
