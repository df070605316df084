#!/usr/bin/env bash
# bench/bundle: ferry's compiled bundles against ONNX Runtime, side by side in one run.
#   bench/bundle/run.sh [FERRY] [BUILD_DIR]     (defaults: build/ferry, build)
# For every model of make_models.py at batch 1 and 32 it prints, per row, the median
# latency of ferry's bundle (`ferry compile MODEL --build`, then `bin/score --bench`),
# of ONNX Runtime in-process through its C API with one thread (ort_bench), their
# ratio, and the Node binding's figure (onnxruntime-node) beside them.
# Needs: /usr/bin/python3 with onnx + sklearn (the models), the npm package
# onnxruntime-node in .cache/node, and BUILD_DIR built with the ort_bench target.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ferry="${1:-build/ferry}"
build="${2:-build}"
ort_bench="${build}/bench_bundle/ort_bench"
out="${FERRY_BENCH_OUT:-${build}/bench_bundle/bundles}"
mkdir -p "${out}"
[[ -x "${ort_bench}" ]] || { echo "build ${ort_bench} first: cmake --build ${build} --target ort_bench" >&2; exit 1; }
[[ -f bench/bundle/models/resnet18.onnx ]] || /usr/bin/python3 bench/bundle/make_models.py

# name input dims(after batch) outputs runs@batch1 runs@batch32
models=(
  "ridge X 10 Y 3000 2000"
  "gbt X 10 Y 3000 2000"
  "logreg X 20 label,probabilities 3000 2000"
  "mlp X 64 Y 3000 1000"
  "cnn X 1,28,28 Y 300 30"
  "resnet18 X 3,224,224 Y 15 3"
)

median() { sed -n 's/.*median_us=\([0-9.]*\).*/\1/p'; }

printf '%-9s %5s %12s %12s %8s %12s\n' model batch ferry_us ort_c_us ratio ort_node_us
for row in "${models[@]}"; do
  read -r name input dims outputs runs1 runs32 <<<"${row}"
  dir="${out}/${name}"
  rm -rf "${dir}"
  built=yes
  if ! "${ferry}" compile "bench/bundle/models/${name}.onnx" -o "${dir}" --build \
      >"${out}.${name}.log" 2>&1; then
    # Until ferry embeds the runtime, build ferry's generated model.cc with the runtime and
    # the bundle template from this checkout (rows marked *).
    built=no
    if "${ferry}" compile "bench/bundle/models/${name}.onnx" -o "${dir}" \
        >>"${out}.${name}.log" 2>&1; then
      rm -rf "${dir}/runtime" && cp -r stdlib/runtime "${dir}/runtime"
      sed 's/@ISA_FLAGS@/-march=native/' stdlib/runtime/bundle/CMakeLists.txt.in \
        >"${dir}/CMakeLists.txt"
      if cmake -S "${dir}" -B "${dir}/build" -DCMAKE_BUILD_TYPE=Release >>"${out}.${name}.log" 2>&1 \
          && cmake --build "${dir}/build" -j2 >>"${out}.${name}.log" 2>&1; then
        built=yes
        name="${name}*"
      fi
    fi
  fi
  for batch in 1 32; do
    runs=$([[ "${batch}" == 1 ]] && echo "${runs1}" || echo "${runs32}")
    model="bench/bundle/models/${name%\*}.onnx"
    ort=$("${ort_bench}" "${model}" "${input}" "${dims}" "${outputs}" \
          --bench "${runs}" --batch "${batch}" | median)
    node_us=$(node bench/bundle/ort_node_bench.js "${model}" "${input}" \
              "${dims}" "${runs}" "${batch}" | median)
    if [[ "${built}" == yes && -x "${dir}/bin/score" ]]; then
      ours=$("${dir}/bin/score" --bench "${runs}" --batch "${batch}" | median)
      ratio=$(awk -v a="${ours}" -v b="${ort}" 'BEGIN { printf "%.2fx", a / b }')
    else
      ours="(not built)"
      ratio="-"
    fi
    printf '%-9s %5s %12s %12s %8s %12s\n' "${name}" "${batch}" "${ours}" "${ort}" "${ratio}" \
      "${node_us}"
  done
done
echo "ratio = ferry / ONNX Runtime (C API, 1 thread). * = ferry's generated model.cc built with"
echo "this checkout's stdlib/runtime (ferry compile --build failed). Logs: ${out}.<model>.log"
