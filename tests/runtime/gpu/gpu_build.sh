#!/usr/bin/env bash
# ctest `gpu-build` (needs nvcc and cuDNN, no GPU): renders samples/image-classification
# (endpoint classify, target gpu) and builds its GPU bundle with CMake + nvcc, as CI does.
# Then bin/score_host (the host reference, the CPU back end's code) scores the endpoint's
# input sample, and bin/score (the GPU model) either scores it within 1e-3 of the reference
# (a device is present) or exits 1 at start-up with "no CUDA device" (none is): a clear
# error, never a crash.
#
#   tests/runtime/gpu/gpu_build.sh FERRY [WORK]   (WORK defaults to $TMPDIR/ferry-gpu-build;
#                                                 kept between runs so rebuilds are quick)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
ferry="$(realpath "$1")"
work="${2:-${TMPDIR:-/tmp}/ferry-gpu-build}"
jobs="${FERRY_GPU_BUILD_JOBS:-2}"
fail() { echo "gpu-build: $*" >&2; exit 1; }

mkdir -p "${work}"
rm -rf "${work}/out"
"${ferry}" render samples/image-classification -o "${work}/out" >/dev/null
bundle="${work}/out/bundles/classify-v1"
[[ -f "${bundle}/model_gpu.cu" ]] || fail "no model_gpu.cu in ${bundle}"
grep -q '^backend: "gpu ' "${bundle}/bundle.yaml" || fail "bundle.yaml does not say backend: gpu"

launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
cmake -S "${bundle}" -B "${work}/build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
  >"${work}/build.log" 2>&1 || { cat "${work}/build.log" >&2; fail "cmake configure failed"; }
cmake --build "${work}/build" -j"${jobs}" >>"${work}/build.log" 2>&1 ||
  { tail -50 "${work}/build.log" >&2; fail "the GPU bundle does not build"; }
[[ -x "${bundle}/bin/score" && -x "${bundle}/bin/score_host" ]] || fail "bin/score or bin/score_host missing"

# The endpoint's input sample (one base64 PNG) as a request.
sample=$(sed -n 's/.*input_sample: {data: \["\([^"]*\)"\]}.*/\1/p' samples/image-classification/ferry.yaml)
[[ -n "${sample}" ]] || fail "no input_sample in the manifest"
printf '{"data": ["%s"]}' "${sample}" >"${work}/request.json"

"${bundle}/bin/score_host" <"${work}/request.json" >"${work}/host.json" ||
  fail "the host reference failed to score the sample"
grep -q '"classes"' "${work}/host.json" || fail "the host reference's output has no classes"

set +e
"${bundle}/bin/score" <"${work}/request.json" >"${work}/gpu.json" 2>"${work}/gpu.err"
status=$?
set -e
if [[ ${status} -eq 0 ]]; then
  # A device: the GPU's scores within 1e-3 relative of the reference's, same classes.
  /usr/bin/env python3 tests/runtime/gpu/compare_outputs.py "${work}/host.json" "${work}/gpu.json" ||
    fail "the GPU's outputs differ from the host reference's"
  echo "gpu-build: built; a device is present and the GPU model scores as the reference"
else
  grep -q "no CUDA device" "${work}/gpu.err" ||
    { cat "${work}/gpu.err" >&2; fail "bin/score failed (status ${status}) without the no-device message"; }
  [[ ${status} -eq 1 ]] || fail "bin/score exited ${status} (a crash?), expected 1"
  echo "gpu-build: built; no device here, bin/score says: $(cat "${work}/gpu.err")"
fi
