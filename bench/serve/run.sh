#!/usr/bin/env bash
# bench/serve: requests per second and latency of ferry's scoring server against the seeds' way
# and ONNX Runtime, all in one run, with wrk on loopback.
#
#   bench/serve/run.sh FERRY_BUILD_DIR
#   bench/serve/run.sh --check FERRY_BUILD_DIR   only start the targets and check one answer
#                                                each (no timing; ctest's bench.serve_answers)
#
# FERRY_BUILD_DIR is a build of this checkout with the `ferry` and `ferry-router` targets. Targets,
# all serving the same ridge model on 10 features (bench/serve/make_model.py writes it as an
# sklearn pickle and as ONNX, and checks they compute the same function) and getting the same
# request body:
#   ferry   the bundle's bin/serve (`ferry compile ridge.onnx --build`), directly
#   router  the same bin/serve behind the router (FERRY_BUILD_DIR/stdlib/router/router, one local
#           replica, no auth, autoscaling off): /api/v1/service/ridge/score
#   flask   the seeds' way: a Flask app around an init()/run(raw_data) entry script
#           (bench/serve/flask_app) under gunicorn with sync workers
#   node    ONNX Runtime (npm onnxruntime-node) behind Node's http server (bench/serve/node_app)
# Every target's answer is checked against sklearn's prediction before it is timed. Then, for each
# connection count, the targets take turns (wrk -d DURATION, keep-alive), and the script prints
# req/s, p50 and p99 for each, the ratios ferry/flask and ferry/node, and the issue's targets.
#
# Environment: DURATION (s, default 5), CONNECTIONS (default "1 16 64"), TARGETS (default
# "ferry router flask node"), WORKERS (server threads/processes for every target, default: the
# core count; bin/serve --threads, gunicorn --workers, Node cluster workers), GUNICORN_WORKERS and
# NODE_WORKERS override it per target, WRK_THREADS (default 1), BENCH_TMPDIR (default /tmp).
# BENCH_WORK=DIR keeps the work folder (model, bundle, logs) in DIR and reuses its bundle when the
# model and the ferry binary are unchanged: `ferry compile --build` takes minutes on a busy machine.
# Needs: wrk, curl, gunicorn, python3-flask, /usr/bin/python3 with sklearn + onnx, node, and
# onnxruntime-node in .cache/node (.ci/setup installs all of them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$(pwd)

fail() { echo "bench/serve: $*" >&2; exit 1; }

check_only=0
if [[ "${1:-}" == "--check" ]]; then check_only=1; shift; fi
build=${1:?usage: bench/serve/run.sh [--check] FERRY_BUILD_DIR}
build=$(cd "${build}" && pwd)
duration=${DURATION:-5}
connections=${CONNECTIONS:-"1 16 64"}
targets=${TARGETS:-"ferry router flask node"}
cores=$(nproc)
workers=${WORKERS:-${cores}}
gunicorn_workers=${GUNICORN_WORKERS:-${workers}}
node_workers=${NODE_WORKERS:-${workers}}
wrk_threads=${WRK_THREADS:-1}
ort_module=${repo}/.cache/node/node_modules/onnxruntime-node

for tool in curl $([[ ${check_only} -eq 1 ]] || echo wrk); do
  command -v "${tool}" >/dev/null || fail "needs ${tool} (apt-get install ${tool})"
done
has() { [[ " ${targets} " == *" $1 "* ]]; }
if has ferry || has router; then
  [[ -x "${build}/ferry" ]] || fail "no ${build}/ferry: build the ferry target"
fi
if has router; then
  [[ -x "${build}/stdlib/router/router" ]] ||
    fail "no ${build}/stdlib/router/router: build the ferry-router target"
fi
if has flask; then
  command -v gunicorn >/dev/null ||
    fail "needs gunicorn and python3-flask (apt-get install gunicorn python3-flask)"
fi
if has node; then
  command -v node >/dev/null || fail "needs node (apt-get install nodejs)"
  [[ -f "${ort_module}/package.json" ]] ||
    fail "needs onnxruntime-node in .cache/node (.ci/setup installs it)"
fi

if [[ -n "${BENCH_WORK:-}" ]]; then
  mkdir -p "${BENCH_WORK}"
  work=$(cd "${BENCH_WORK}" && pwd)
else
  work=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/ferry-bench-serve.XXXXXX")
fi
pids=()
cleanup() {
  # Each server runs in its own process group (setsid): end the groups this script started.
  for pid in "${pids[@]}"; do kill -TERM -- "-${pid}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "${pid}" 2>/dev/null || true; done
  [[ -n "${BENCH_WORK:-}" ]] || rm -rf "${work}"
}
trap cleanup EXIT

# A free TCP port on 127.0.0.1, from the OS.
free_port() {
  /usr/bin/python3 -c \
    'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start NAME COMMAND...: runs COMMAND in its own process group, output to WORK/NAME.log.
start() {
  local name=$1; shift
  setsid "$@" >"${work}/${name}.log" 2>&1 &
  pids+=("$!")
}

/usr/bin/python3 bench/serve/make_model.py --out "${work}"
body=${work}/body.json

declare -A url
if (has ferry || has router) && ! { [[ -x "${work}/bundle/bin/serve" ]] &&
                                    [[ "${work}/bundle/bin/serve" -nt "${build}/ferry" ]] &&
                                    cmp -s "${work}/ridge.onnx" "${work}/bundle.onnx"; }; then
  rm -rf "${work}/bundle" "${work}/bundle.onnx"
  "${build}/ferry" compile "${work}/ridge.onnx" -o "${work}/bundle" --build \
    >"${work}/compile.log" 2>&1 ||
    fail "ferry compile --build failed: $(tail -20 "${work}/compile.log")"
  cp "${work}/ridge.onnx" "${work}/bundle.onnx"  # what the bundle was compiled from
  [[ -x "${work}/bundle/bin/serve" ]] ||
    fail "the bundle has no bin/serve (stdlib/runtime/bundle/serve.cc)"
fi
if has ferry; then
  port=$(free_port)
  start ferry "${work}/bundle/bin/serve" --host 127.0.0.1 --port "${port}" --auth none \
    --threads "${workers}"
  url[ferry]=http://127.0.0.1:${port}/score
fi
if has router; then
  port=$(free_port)
  cat >"${work}/routes.yaml" <<YAML
format: 1
cluster: local
namespace: bench
listen: {http: ${port}}
autoscaler: {enabled: false, scale_up_seconds: 1, scale_down_seconds: 60}
endpoints:
- name: ridge
  path: /api/v1/service/ridge/score
  auth: {mode: none}
  versions:
  - name: v1
    weight: 100
    default: true
    role: control
    autoscale: {enabled: false, min_replicas: 1, max_replicas: 1, target_utilization: 70,
                max_concurrent_requests_per_replica: 1024}
    local:
      command: ["${work}/bundle/bin/serve", "--host", "127.0.0.1", "--auth", "none",
                "--threads", "${workers}"]
      working_directory: ${work}/bundle
YAML
  start router "${build}/stdlib/router/router" --routes "${work}/routes.yaml" --host 127.0.0.1 \
    --port "${port}"
  url[router]=http://127.0.0.1:${port}/api/v1/service/ridge/score
fi
if has flask; then
  port=$(free_port)
  start flask env AZUREML_MODEL_DIR="${work}" gunicorn --chdir "${repo}/bench/serve/flask_app" \
    --workers "${gunicorn_workers}" --worker-class sync --bind "127.0.0.1:${port}" app:app
  url[flask]=http://127.0.0.1:${port}/score
fi
if has node; then
  port=$(free_port)
  start node env ORT_NODE_MODULE="${ort_module}" node bench/serve/node_app/server.js \
    "${work}/ridge.onnx" "${port}" "${node_workers}"
  url[node]=http://127.0.0.1:${port}/score
fi

# Ready and right: each target must answer the body with sklearn's prediction (60 s to start).
for target in ${targets}; do
  answer=""
  for _ in $(seq 600); do
    if answer=$(curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@${body}" \
        "${url[${target}]}" 2>/dev/null); then
      break
    fi
    sleep 0.1
  done
  [[ -n "${answer}" ]] ||
    fail "${target} did not answer ${url[${target}]}: $(tail -20 "${work}/${target}.log")"
  /usr/bin/python3 bench/serve/answer.py "${work}/expected.json" <<<"${answer}" ||
    fail "${target} answered wrongly"
  echo "${target}: ${url[${target}]} answers sklearn's prediction"
done
if [[ ${check_only} -eq 1 ]]; then exit 0; fi

# wrk latencies come as 123.45us, 1.23ms or 1.02s: microseconds.
to_us() {
  awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v+0}
        else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000}
        else if (v ~ /m$/) {sub(/m/,"",v); print v*60e6} else {sub(/s/,"",v); print v*1e6}}'
}

declare -A rps p50 p99
errors_seen=0
run_wrk() {  # run_wrk TARGET CONNS SECONDS -> fills rps/p50/p99[TARGET,CONNS]
  local target=$1 conns=$2 seconds=$3 out threads=$((wrk_threads < $2 ? wrk_threads : $2))
  out=$(WRK_BODY=${body} wrk -t"${threads}" -c"${conns}" -d"${seconds}s" --latency \
    -s bench/serve/score.lua "${url[${target}]}")
  if grep -q 'Non-2xx\|Socket errors' <<<"${out}"; then
    errors_seen=1
    echo "  ${target} at ${conns} connections:" \
      "$(grep 'Non-2xx\|Socket errors' <<<"${out}" | xargs)" >&2
  fi
  rps[${target},${conns}]=$(awk '/^Requests\/sec/ {print $2}' <<<"${out}")
  p50[${target},${conns}]=$(awk '$1=="50%" {print $2}' <<<"${out}" | to_us)
  p99[${target},${conns}]=$(awk '$1=="99%" {print $2}' <<<"${out}" | to_us)
}

echo "serving benchmark: ridge on 10 features, $(stat -c %s "${body}")-byte JSON body," \
  "wrk -t${wrk_threads} ${duration} s per row, keep-alive"
echo "machine: ${cores} cores, load average $(cut -d' ' -f1-3 /proc/loadavg); workers:" \
  "ferry/router ${workers} threads, gunicorn ${gunicorn_workers} sync workers," \
  "node ${node_workers} processes"
for target in ${targets}; do run_wrk "${target}" 16 1; done  # warm-up, not recorded
for conns in ${connections}; do
  for target in ${targets}; do run_wrk "${target}" "${conns}" "${duration}"; done
done

printf '\n%-7s %6s %12s %10s %10s\n' target conns req/s p50_us p99_us
for conns in ${connections}; do
  for target in ${targets}; do
    printf '%-7s %6s %12.0f %10.0f %10.0f\n' "${target}" "${conns}" "${rps[${target},${conns}]}" \
      "${p50[${target},${conns}]}" "${p99[${target},${conns}]}"
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; }
over() { ratio "${rps[$1,$3]}" "${rps[$2,$3]}"; }  # over A B CONNS: A's req/s / B's
if has ferry && { has flask || has node; }; then
  echo
  for conns in ${connections}; do
    line="ratios at ${conns} connections:"
    for pair in ferry/flask ferry/node router/flask router/node; do
      a=${pair%/*} b=${pair#*/}
      if has "${a}" && has "${b}"; then line+=" ${pair} $(over "${a}" "${b}" "${conns}")x"; fi
    done
    echo "${line}"
  done
  echo
  # The issue's targets, at every connection count measured (p99 at 16 connections).
  verdict() { awk -v v="$1" -v t="$2" 'BEGIN { print (v >= t ? "met" : "missed") }'; }
  for conns in ${connections}; do
    if has flask; then
      echo "target ferry >= 20x flask at ${conns}: $(verdict "$(over ferry flask "${conns}")" 20)"
    fi
    if has node; then
      echo "target ferry >= 2x node at ${conns}: $(verdict "$(over ferry node "${conns}")" 2)"
    fi
  done
  if [[ " ${connections} " == *" 16 "* ]]; then
    echo "target ferry p99 <= 1000 us at 16:" \
      "$(verdict 1000 "${p99[ferry,16]}") (${p99[ferry,16]} us)"
  fi
fi
if [[ ${errors_seen} -ne 0 ]]; then echo "some answers were errors (above)" >&2; exit 1; fi
