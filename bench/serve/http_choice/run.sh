#!/usr/bin/env bash
# Measures the HTTP library candidates with wrk: POST /score (body.json), keep-alive, at 1, 16 and
# 64 connections, DURATION seconds each, candidates interleaved and ROUNDS rounds (the machine is
# shared: compare within a round). Prints one line per measurement:
#   round connections server req_per_s p50_us p99_us
# Usage: bench/serve/http_choice/run.sh BUILD_DIR   (BUILD_DIR: a build of CMakeLists.txt here)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR (cmake -S bench/serve/http_choice -B BUILD_DIR && cmake --build BUILD_DIR)}
here=$(cd "$(dirname "$0")" && pwd)
duration=${DURATION:-5}
rounds=${ROUNDS:-2}
servers=${SERVERS:-"beast beast_pool beast_raw mhd h2o httplib"}
port=${PORT:-18090}

# wrk latencies come as 123.45us / 1.23ms / 1.02s; print microseconds.
to_us() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); print v+0} else if (v ~ /ms$/) {sub(/ms/,"",v); print v*1000} else {sub(/s/,"",v); print v*1000000}}'; }

pid=""
trap '[[ -z "${pid}" ]] || kill "${pid}" 2>/dev/null || true' EXIT

printf '%-5s %-5s %-10s %10s %9s %9s\n' round conns server req/s p50_us p99_us
for round in $(seq "$rounds"); do
  for conns in 1 16 64; do
    for server in $servers; do
      "$build/${server}_server" "$port" & pid=$!
      for _ in $(seq 50); do curl -s -o /dev/null -X POST --data x "http://127.0.0.1:$port/score" && break; sleep 0.1; done
      out=$(wrk -t1 -c"$conns" -d"${duration}s" --latency -s "$here/score.lua" "http://127.0.0.1:$port/score")
      kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
      if grep -q 'Non-2xx\|Socket errors' <<<"$out"; then echo "$server: errors:"; echo "$out"; fi
      rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
      p50=$(awk '$1=="50%" {print $2}' <<<"$out" | to_us)
      p99=$(awk '$1=="99%" {print $2}' <<<"$out" | to_us)
      printf '%-5s %-5s %-10s %10.0f %9.0f %9.0f\n' "$round" "$conns" "$server" "$rps" "$p50" "$p99"
    done
  done
done
