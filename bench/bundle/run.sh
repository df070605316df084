#!/usr/bin/env bash
# bench/bundle: ferry's compiled bundles against ONNX Runtime, side by side in one run.
#
#   bench/bundle/run.sh [FERRY] [BUILD_DIR]      compile, build and time here
#                                               (defaults: build/ferry, build)
#   bench/bundle/run.sh --prepare DIR [FERRY]   only write DIR: the models (DIR/models/) and
#                                               one bundle folder per model (`ferry compile`
#                                               without --build), for another machine
#   bench/bundle/run.sh --prebuilt DIR          on that machine: build DIR's bundles with
#                                               CMake, ort_bench with g++, and time them
#   bench/bundle/run.sh --target gpu [ARGS]     GPU bundles: bench/bundle/gpu_device.sh ARGS
#
# For every model of make_models.py at batch 1 and 32 it prints, per row, the median
# latency of ferry's bundle (`bin/score --bench`), of ONNX Runtime in-process through
# its C API with one thread (ort_bench), their ratio, and the Node binding's figure
# (onnxruntime-node) beside them when node and the npm package are there.
#
# Here, needs: /usr/bin/python3 with onnx + sklearn (the models), the npm package
# onnxruntime-node in .cache/node, and BUILD_DIR built with the ferry and ort_bench targets.
# --prebuilt needs only this checkout's sources, g++, CMake and libonnxruntime.so
# (FERRY_ORT_LIBRARY=/path/to/libonnxruntime.so.1, e.g. from the npm package or an
# onnxruntime release archive; default: the npm package's under .cache/node).
# BENCH_ISA (default avx2; avx512 for a machine that has it) is the bundles' `ferry compile
# --isa`. BENCH_JOBS (default 2) sets the build's parallelism; BENCH_ROUNDS (default 3) how many
# times each row alternates ferry's and ONNX Runtime's runs (each side's best median counts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# name input dims(after batch) outputs runs@batch1 runs@batch32
models=(
  "ridge X 10 Y 3000 2000"
  "gbt X 10 Y 3000 2000"
  "logreg X 20 label,probabilities 3000 2000"
  "mlp X 64 Y 3000 1000"
  "cnn X 1,28,28 Y 300 30"
  "resnet18 X 3,224,224 Y 15 3"
)
jobs="${BENCH_JOBS:-2}"
rounds="${BENCH_ROUNDS:-3}"
isa="${BENCH_ISA:-avx2}"
npm_ort=.cache/node/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

median() { sed -n 's/.*median_us=\([0-9.]*\).*/\1/p'; }
fail() { echo "$*" >&2; exit 1; }

# Writes DIR/models/*.onnx and DIR/<model>/ (a bundle folder with its runtime copy).
prepare() {
  local dir="$1" ferry="$2"
  mkdir -p "${dir}/models"
  /usr/bin/python3 bench/bundle/make_models.py --out "${dir}/models"
  for row in "${models[@]}"; do
    read -r name _ <<<"${row}"
    rm -rf "${dir:?}/${name}"
    "${ferry}" compile "${dir}/models/${name}.onnx" -o "${dir}/${name}" --isa "${isa}" \
      >"${dir}/${name}.log" 2>&1 || fail "ferry compile ${name} failed: ${dir}/${name}.log"
  done
}

# Builds the bundle folder DIR/<name> (Release, the ISA its CMakeLists.txt names).
build_bundle() {
  local bundle="$1"
  cmake -S "${bundle}" -B "${bundle}/build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    >"${bundle}.build.log" 2>&1 && cmake --build "${bundle}/build" -j"${jobs}" \
    >>"${bundle}.build.log" 2>&1
}

# Times every model: bundles under DIR/<name>, models under MODELS, ort_bench at ORT_BENCH.
bench() {
  local dir="$1" model_dir="$2" ort_bench="$3"
  printf '%-9s %5s %12s %12s %8s %12s\n' model batch ferry_us ort_c_us ratio ort_node_us
  for row in "${models[@]}"; do
    read -r name input dims outputs runs1 runs32 <<<"${row}"
    for batch in 1 32; do
      runs=$([[ "${batch}" == 1 ]] && echo "${runs1}" || echo "${runs32}")
      model="${model_dir}/${name}.onnx"
      # Alternate the two sides and keep each one's best median: on a shared
      # machine a burst of other work then hits both sides alike.
      ours="" ort=""
      for ((round = 0; round < rounds; round++)); do
        o=$("${dir}/${name}/bin/score" --bench "${runs}" --batch "${batch}" | median)
        r=$("${ort_bench}" "${model}" "${input}" "${dims}" "${outputs}" \
            --bench "${runs}" --batch "${batch}" | median)
        ours=$(awk -v a="${ours:-${o}}" -v b="${o}" 'BEGIN { print (b < a ? b : a) }')
        ort=$(awk -v a="${ort:-${r}}" -v b="${r}" 'BEGIN { print (b < a ? b : a) }')
      done
      node_us="-"
      if command -v node >/dev/null 2>&1 && [[ -d .cache/node/node_modules/onnxruntime-node ]]; then
        node_us=$(node bench/bundle/ort_node_bench.js "${model}" "${input}" "${dims}" "${runs}" \
                  "${batch}" | median)
      fi
      ratio=$(awk -v a="${ours}" -v b="${ort}" 'BEGIN { printf "%.2fx", a / b }')
      printf '%-9s %5s %12s %12s %8s %12s\n' "${name}" "${batch}" "${ours}" "${ort}" "${ratio}" \
        "${node_us}"
    done
  done
  echo "ratio = ferry / ONNX Runtime (C API, 1 thread); each side's best median of ${rounds}"
  echo "alternating rounds, in microseconds."
  echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores"
}

case "${1:-}" in
  --target)
    # GPU bundles on a device against their host reference and ONNX Runtime's CPU figures:
    # bench/bundle/gpu_device.sh (default: all of it here, into build/bench_bundle/gpu).
    [[ "${2:-}" == gpu ]] || fail "--target: gpu is the only other target (cpu is the default)"
    shift 2
    if [[ $# -eq 0 ]]; then set -- --all build/bench_bundle/gpu build/ferry; fi
    exec bash bench/bundle/gpu_device.sh "$@"
    ;;
  --prepare)
    [[ $# -ge 2 ]] || { echo "usage: run.sh --prepare DIR [FERRY]" >&2; exit 2; }
    prepare "$2" "${3:-build/ferry}"
    echo "wrote ${2}: models/ and one bundle folder per model; on the bench machine run"
    echo "  FERRY_ORT_LIBRARY=/path/to/libonnxruntime.so.1 bench/bundle/run.sh --prebuilt ${2}"
    ;;
  --prebuilt)
    [[ $# -ge 2 ]] || { echo "usage: run.sh --prebuilt DIR" >&2; exit 2; }
    dir="$2"
    export FERRY_ORT_LIBRARY="${FERRY_ORT_LIBRARY:-${PWD}/${npm_ort}}"
    [[ -f "${FERRY_ORT_LIBRARY}" ]] || fail "no ${FERRY_ORT_LIBRARY}: set FERRY_ORT_LIBRARY"
    # ort_bench needs only its own sources, the oracle's C API declarations and
    # runtime/model.h (header-only here), so g++ alone builds it.
    g++ -O2 -std=c++20 -I. -Istdlib bench/bundle/ort_bench.cc tests/oracle/ort_session.cc \
      -ldl -o "${dir}/ort_bench"
    for row in "${models[@]}"; do
      read -r name _ <<<"${row}"
      build_bundle "${dir}/${name}" || fail "build failed: ${dir}/${name}.build.log"
    done
    bench "${dir}" "${dir}/models" "${dir}/ort_bench"
    ;;
  *)
    ferry="${1:-build/ferry}"
    build="${2:-build}"
    ort_bench="${build}/bench_bundle/ort_bench"
    out="${FERRY_BENCH_OUT:-${build}/bench_bundle/bundles}"
    [[ -x "${ort_bench}" ]] \
      || fail "build ${ort_bench} first: cmake --build ${build} --target ort_bench"
    prepare "${out}" "${ferry}"
    for row in "${models[@]}"; do
      read -r name _ <<<"${row}"
      build_bundle "${out}/${name}" || fail "build failed: ${out}/${name}.build.log"
    done
    bench "${out}" "${out}/models" "${ort_bench}"
    ;;
esac
