#!/usr/bin/env bash
# End-to-end test of `ferry plan/apply/destroy` with the local executor, on
# copies of the bundled samples (issue 5's "done when"):
#   faq       apply brings up an authenticated scoring service; a second apply
#             and plan are no-ops; status, logs, keys (and regenerating one) work;
#             destroy leaves no process behind.
#   rollout   a traffic edit plans exactly one update; applying it under load
#             drops no request and moves the split; a saved plan is refused once
#             the manifest or the state moved.
#   kill      apply SIGKILLed before and after every action of a first apply and
#             of a change, then applied again: converges, no orphan processes.
#   safety    a new version whose replicas never get ready: apply stops, says why
#             with the replica's log, and traffic stays where it was.
# usage: apply_e2e.sh FERRY WORKDIR [faq|rollout|safety|kill]...   (default: all)
set -euo pipefail

ferry="$(realpath "$1")"
work="$2"
shift 2
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(faq rollout safety kill)
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

mkdir -p "${work}"
work="$(realpath "${work}")"
# One bundle cache for every scenario and run: a bundle is built once (CI
# points FERRY_CACHE_DIR at one cache for its two build folders).
export FERRY_CACHE_DIR="${FERRY_CACHE_DIR:-${work}/cache}"
mkdir -p "${FERRY_CACHE_DIR}"
FERRY_CACHE_DIR="$(realpath "${FERRY_CACHE_DIR}")"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() {
  printf '\n--- %s\n' "$*"
}

# A fresh copy of a sample under the work folder.
fresh_project() {
  local sample="$1" name="$2"
  local dir="${work}/${name}"
  if [[ -f "${dir}/.ferry/state.json" ]]; then
    "${ferry}" destroy "${dir}" --auto-approve >/dev/null 2>&1 || true
  fi
  rm -rf "${dir}"
  cp -r "${source_dir}/samples/${sample}" "${dir}"
  echo "${dir}"
}

# Processes whose command line mentions the project folder (the router) or
# the cache (replicas run bin/serve from it), excluding this shell's tools.
project_processes() {
  local dir="$1"
  local pid
  for pid in $(pgrep -f -- "${dir}/|${FERRY_CACHE_DIR}/bundles" || true); do
    [[ "${pid}" == "$$" ]] && continue
    tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q -- "${dir}/" && echo "${pid}"
  done
}

scoring_uri() {
  "${ferry}" status "$1" --format json | /usr/bin/python3 -c \
    'import json,sys; print(json.load(sys.stdin)["endpoints"][0]["scoring_uri"])'
}

primary_key() {
  "${ferry}" keys "$2" "$1" | sed -n 's/^primary: //p'
}

expect_exit() {
  local want="$1"
  shift
  set +e
  "$@" >"${work}/last.out" 2>"${work}/last.err"
  local got=$?
  set -e
  if [[ "${got}" -ne "${want}" ]]; then
    cat "${work}/last.out" "${work}/last.err" >&2
    fail "exit ${got}, expected ${want}: $*"
  fi
}

# POSTs `body` with the key; prints the HTTP status, then the body.
score() {
  local uri="$1" key="$2" body="$3"
  curl -s -o "${work}/score.body" -w '%{http_code}' -X POST "${uri}" \
    -H "Authorization: Bearer ${key}" -H 'Content-Type: application/json' -d "${body}"
}

# Sends `count` scoring requests; prints the version that answered each
# (the router's X-Ferry-Version header), one per line ("" when none did).
served_versions() {
  local uri="$1" key="$2" body="$3" count="$4" i version
  for i in $(seq 1 "${count}"); do
    version="$(curl -s -D - -o /dev/null -X POST "${uri}" -H "Authorization: Bearer ${key}" \
      -H 'Content-Type: application/json' -d "${body}" | tr -d '\r' |
      sed -n 's/^[Xx]-[Ff]erry-[Vv]ersion: //p')"
    echo "${version}"
  done
}

scenario_faq() {
  step "faq: plan, apply, authenticated request"
  local dir
  dir="$(fresh_project faq-matching faq)"
  expect_exit 2 "${ferry}" plan "${dir}"
  grep -q "Plan: 6 to create, 0 to update, 0 to replace, 0 to delete." "${work}/last.out" ||
    { cat "${work}/last.out"; fail "faq: unexpected first plan"; }
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  grep -q "Apply complete" "${work}/last.out" || fail "faq: no completion line"
  local uri key status
  uri="$(scoring_uri "${dir}")"
  key="$(primary_key "${dir}" faq)"
  [[ -n "${key}" ]] || fail "faq: no primary key"
  status="$(score "${uri}" "${key}" '{"data": [["how do I reset my password?"]]}')"
  [[ "${status}" == 200 ]] || fail "faq: scoring answered ${status}: $(cat "${work}/score.body")"
  grep -q '"faq_ids": \[\[0' "${work}/score.body" || fail "faq: unexpected answer $(cat "${work}/score.body")"
  status="$(score "${uri}" wrong-key '{"data": [["reset password"]]}')"
  [[ "${status}" == 401 ]] || fail "faq: a wrong key got ${status}"

  step "faq: a second apply and plan change nothing"
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  grep -q "No changes" "${work}/last.out" || fail "faq: second apply was not a no-op"
  expect_exit 0 "${ferry}" plan "${dir}"
  expect_exit 0 "${ferry}" plan "${dir}" --refresh

  step "faq: while another ferry holds the state's lock, plan -out and apply are refused"
  local lock="${dir}/.ferry/state.json.lock"
  printf '{"id": "abcd1234", "pid": 999999, "host": "%s", "user": "ci", "operation": "apply", "created": "2026-11-23T10:00:00Z"}\n' \
    "$(uname -n)" >"${lock}"
  flock -n "${lock}" sleep 5 &
  local holder=$!
  sleep 1
  expect_exit 1 "${ferry}" plan "${dir}" -out "${work}/locked.plan"
  grep -q "is locked by pid 999999" "${work}/last.err" || { cat "${work}/last.err"; fail "faq: no lock owner named"; }
  grep -q "ferry force-unlock abcd1234" "${work}/last.err" || fail "faq: no force-unlock hint"
  expect_exit 1 "${ferry}" apply "${dir}" --auto-approve
  expect_exit 0 "${ferry}" plan "${dir}"  # plain plan takes no lock
  wait "${holder}"
  # The holder is gone: the next apply takes the lock over and says so.
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  grep -q "took over the lock of pid 999999" "${work}/last.err" || { cat "${work}/last.err"; fail "faq: the dead owner's lock was not taken over"; }
  [[ ! -e "${lock}" ]] || fail "faq: the lock file is left behind"

  step "faq: status, logs, keys"
  expect_exit 0 "${ferry}" status "${dir}"
  grep -q "healthy" "${work}/last.out" || fail "faq: status is not healthy"
  expect_exit 0 "${ferry}" logs faq "${dir}" --tail 5
  grep -q "faq-live" "${work}/last.out" || fail "faq: logs name no replica"
  expect_exit 0 "${ferry}" keys faq "${dir}" --regenerate primary
  local new_key
  new_key="$(sed -n 's/^primary: //p' "${work}/last.out")"
  [[ -n "${new_key}" && "${new_key}" != "${key}" ]] || fail "faq: the key was not regenerated"
  sleep 2  # the router re-reads key files within a second
  status="$(score "${uri}" "${key}" '{"data": [["reset password"]]}')"
  [[ "${status}" == 401 ]] || fail "faq: the old key still works (${status})"
  status="$(score "${uri}" "${new_key}" '{"data": [["reset password"]]}')"
  [[ "${status}" == 200 ]] || fail "faq: the new key got ${status}"

  step "faq: a crashed router is found by plan --refresh and brought back by apply"
  local router_pid
  router_pid="$(cat "${dir}/.ferry/run/router.pid")"
  kill -9 "${router_pid}"
  sleep 1
  expect_exit 2 "${ferry}" plan "${dir}" --refresh
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  uri="$(scoring_uri "${dir}")"
  status="$(score "${uri}" "${new_key}" '{"data": [["reset password"]]}')"
  [[ "${status}" == 200 ]] || fail "faq: after the router came back, scoring answered ${status}"

  step "faq: switching to token auth replaces the secret; a token from ferry token works"
  sed -i 's/^    auth: key$/    auth: token/' "${dir}/ferry.yaml"
  expect_exit 2 "${ferry}" plan "${dir}"
  grep -q "Plan: 0 to create, 1 to update, 3 to replace, 0 to delete." "${work}/last.out" ||
    { cat "${work}/last.out"; fail "faq: the auth change is not three replaces (bundle: its swagger.json, secret, version) and one update"; }
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  expect_exit 1 "${ferry}" keys faq "${dir}"
  expect_exit 0 "${ferry}" token faq "${dir}" --ttl 600
  local token
  token="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accessToken"])' \
    "${work}/last.out")"
  status="$(score "${uri}" "${token}" '{"data": [["reset password"]]}')"
  [[ "${status}" == 200 ]] || fail "faq: the token got ${status}"
  status="$(score "${uri}" "${new_key}" '{"data": [["reset password"]]}')"
  [[ "${status}" == 401 ]] || fail "faq: a key still works under token auth (${status})"

  step "faq: destroy leaves nothing running"
  expect_exit 0 "${ferry}" destroy "${dir}" --auto-approve
  sleep 1
  local left
  left="$(project_processes "${dir}")"
  [[ -z "${left}" ]] || fail "faq: processes left after destroy: ${left}"
  expect_exit 2 "${ferry}" plan "${dir}"
}

scenario_rollout() {
  step "rollout: apply two versions (a 20%, b 80%)"
  local dir
  dir="$(fresh_project controlled-rollout rollout)"
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  local uri key
  uri="$(scoring_uri "${dir}")"
  key="$(primary_key "${dir}" churn)"
  local body='{"data": [[0.4, -1.2, 0.3, 2.0, 0.0, -0.7, 1.1, 0.2]]}'

  step "rollout: a traffic edit plans exactly one update"
  sed -i 's/traffic: 20$/traffic: 50/' "${dir}/ferry.yaml"
  expect_exit 2 "${ferry}" plan "${dir}"
  grep -q "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete." "${work}/last.out" ||
    { cat "${work}/last.out"; fail "rollout: the traffic edit is not exactly one update"; }
  grep -q "traffic.churn" "${work}/last.out" || fail "rollout: the update is not traffic.churn"

  step "rollout: a saved plan is refused once the manifest changed"
  expect_exit 2 "${ferry}" plan "${dir}" -out "${work}/rollout.plan"
  sed -i 's/traffic: 50$/traffic: 60/' "${dir}/ferry.yaml"
  expect_exit 1 "${ferry}" apply "${work}/rollout.plan"
  grep -q "stale" "${work}/last.err" || fail "rollout: a plan with changed inputs was not refused"
  sed -i 's/traffic: 60$/traffic: 50/' "${dir}/ferry.yaml"

  step "rollout: apply the saved plan under load; no request dropped"
  cat >"${work}/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '${body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key}"
LUA
  wrk -t2 -c8 -d12s --latency -s "${work}/post.lua" "${uri}" >"${work}/wrk.out" 2>&1 &
  local load=$!
  sleep 3
  expect_exit 0 "${ferry}" apply "${work}/rollout.plan"
  wait "${load}"
  cat "${work}/wrk.out"
  local requests
  requests="$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "${work}/wrk.out")"
  [[ "${requests:-0}" -gt 100 ]] || fail "rollout: the load made too few requests (${requests})"
  if grep -Eq "Non-2xx|Socket errors" "${work}/wrk.out"; then
    fail "rollout: requests failed while traffic moved"
  fi

  step "rollout: the split is now 50/50"
  served_versions "${uri}" "${key}" "${body}" 100 >"${work}/versions"
  local a b
  a="$(grep -cx a "${work}/versions" || true)"
  b="$(grep -cx b "${work}/versions" || true)"
  echo "a ${a}, b ${b} of 100"
  [[ "${a}" -ge 45 && "${a}" -le 55 && $((a + b)) -eq 100 ]] || fail "rollout: split a ${a}, b ${b}"

  step "rollout: a saved plan is refused once the state moved"
  sed -i 's/traffic: 50$/traffic: 30/' "${dir}/ferry.yaml"
  expect_exit 2 "${ferry}" plan "${dir}" -out "${work}/rollout2.plan"
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  expect_exit 1 "${ferry}" apply "${work}/rollout2.plan"
  grep -q "stale" "${work}/last.err" || fail "rollout: a plan of an older state was not refused"

  expect_exit 0 "${ferry}" destroy "${dir}" --auto-approve
  sleep 1
  [[ -z "$(project_processes "${dir}")" ]] || fail "rollout: processes left after destroy"
}

scenario_safety() {
  step "safety: a new version that never passes readiness gets no traffic; apply stops"
  local dir
  dir="$(fresh_project controlled-rollout safety)"
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  local uri key
  uri="$(scoring_uri "${dir}")"
  key="$(primary_key "${dir}" churn)"
  local body='{"data": [[0.4, -1.2, 0.3, 2.0, 0.0, -0.7, 1.1, 0.2]]}'
  # A third version c with 10%: its bundle is built (the apply is killed right
  # after), then its cached bin/serve is replaced by one that fails at start.
  /usr/bin/python3 - "${dir}/ferry.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
text += """      c:
        model: churn-scorer@1
        environment: cpu-default
        traffic: 10
        role: treatment
        resources: {cpu: 0.5, memory_gb: 1}
        autoscale: {enabled: true, min_replicas: 1, max_replicas: 2}
"""
open(path, "w").write(text)
PY
  expect_exit 2 "${ferry}" plan "${dir}" --format json
  local sha
  sha="$(/usr/bin/python3 -c '
import json, sys
plan = json.load(open(sys.argv[1]))
for action in plan["actions"]:
    if action["address"] == "bundle.churn.c":
        print(action["desired"]["attributes"]["sha256"])
' "${work}/last.out")"
  [[ -n "${sha}" ]] || fail "safety: no bundle.churn.c in the plan"
  rm -rf "${FERRY_CACHE_DIR}/bundles/${sha}"
  set +e
  FERRY_TEST_KILL="after:1" "${ferry}" apply "${dir}" --auto-approve >"${work}/killed.out" 2>&1
  set -e
  [[ -x "${FERRY_CACHE_DIR}/bundles/${sha}/bin/serve" ]] || fail "safety: bundle c was not built"
  printf '#!/bin/sh\necho "serve: cannot load model.onnx: weights.bin is corrupt (test)" >&2\nexit 1\n' \
    >"${FERRY_CACHE_DIR}/bundles/${sha}/bin/serve"
  expect_exit 1 "${ferry}" apply "${dir}" --auto-approve --ready-timeout 6
  grep -q "version churn/c did not pass its readiness check" "${work}/last.err" ||
    { cat "${work}/last.err"; fail "safety: the failure does not name the version"; }
  grep -q "weights.bin is corrupt (test)" "${work}/last.err" ||
    { cat "${work}/last.err"; fail "safety: the failure does not show the replica's log"; }
  served_versions "${uri}" "${key}" "${body}" 50 >"${work}/versions"
  local a b other
  a="$(grep -cx a "${work}/versions" || true)"
  b="$(grep -cx b "${work}/versions" || true)"
  other=$((50 - a - b))
  echo "after the failed apply: a ${a}, b ${b}, other ${other} of 50"
  [[ "${a}" -eq 10 && "${b}" -eq 40 && "${other}" -eq 0 ]] ||
    fail "safety: traffic moved after a failed readiness check (a ${a}, b ${b}, other ${other})"
  # Its replicas were stopped when the routes went back: nothing of c runs,
  # so the next plan creates it again (and moves the traffic after it).
  expect_exit 2 "${ferry}" plan "${dir}"
  grep -q "Plan: 1 to create, 1 to update, 0 to replace, 0 to delete." "${work}/last.out" ||
    { cat "${work}/last.out"; fail "safety: the failed version is not planned again"; }

  rm -rf "${FERRY_CACHE_DIR}/bundles/${sha}"
  expect_exit 0 "${ferry}" destroy "${dir}" --auto-approve
  sleep 1
  [[ -z "$(project_processes "${dir}")" ]] || fail "safety: processes left after destroy"
}

# Applies with a kill at every boundary, then converges; `prepare` edits the
# manifest before each killed apply (the change under test).
kill_loop() {
  local dir="$1" label="$2" actions="$3" prepare="$4"
  local k mode
  for k in $(seq 1 "${actions}"); do
    for mode in before after; do
      eval "${prepare}"
      set +e
      FERRY_TEST_KILL="${mode}:${k}" "${ferry}" apply "${dir}" --auto-approve \
        >"${work}/killed.out" 2>&1
      local got=$?
      set -e
      [[ "${got}" -eq 137 ]] || { cat "${work}/killed.out"; fail "${label}: ${mode}:${k} was not killed (exit ${got})"; }
      expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
      expect_exit 0 "${ferry}" plan "${dir}" --refresh
      local uri key status
      uri="$(scoring_uri "${dir}")"
      key="$(primary_key "${dir}" diabetes)"
      status="$(score "${uri}" "${key}" '{"data": [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]}')"
      [[ "${status}" == 200 ]] || fail "${label}: after ${mode}:${k} scoring answered ${status}"
      # One router and the replicas the state expects, nothing more.
      local routers replicas
      routers="$(pgrep -fc -- "--pid-file ${dir}/.ferry/run/router.pid" || true)"
      replicas="$(pgrep -fc -- "${FERRY_CACHE_DIR}/bundles/.*/bin/serve" || true)"
      [[ "${routers}" -eq 1 ]] || fail "${label}: after ${mode}:${k}: ${routers} routers"
      echo "${label} ${mode}:${k}: converged (${replicas} replicas)"
    done
  done
}

scenario_kill() {
  step "kill: SIGKILL at every action boundary of a first apply, then apply again"
  local dir
  dir="$(fresh_project dev-test kill)"
  expect_exit 2 "${ferry}" plan "${dir}"
  local actions
  actions="$(sed -n 's/^Plan: \([0-9]*\) to create.*/\1/p' "${work}/last.out")"
  [[ "${actions}" -ge 5 ]] || fail "kill: expected at least 5 actions, got ${actions}"
  kill_loop "${dir}" "first apply" "${actions}" \
    "\"${ferry}\" destroy \"${dir}\" --auto-approve >/dev/null 2>&1 || true"

  step "kill: SIGKILL at every action boundary of a change (a second version, traffic moved)"
  cp "${dir}/ferry.yaml" "${work}/kill-base.yaml"
  /usr/bin/python3 - "${dir}/ferry.yaml" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
text += """      v2:
        model: diabetes-ridge@1
        resources: {cpu: 0.5, memory_gb: 1}
        autoscale: {enabled: false}
        replicas: 1
        traffic: 50
        serving: {request_timeout_ms: 30000}
"""
open(path, "w").write(text)
PY
  cp "${dir}/ferry.yaml" "${work}/kill-change.yaml"
  cp "${work}/kill-base.yaml" "${dir}/ferry.yaml"
  expect_exit 0 "${ferry}" apply "${dir}" --auto-approve
  cp "${work}/kill-change.yaml" "${dir}/ferry.yaml"
  expect_exit 2 "${ferry}" plan "${dir}"
  cat "${work}/last.out"
  local changes
  changes="$(sed -n 's/^Plan: \([0-9]*\) to create, \([0-9]*\) to update, \([0-9]*\) to replace, \([0-9]*\) to delete./\1 \2 \3 \4/p' "${work}/last.out" | awk '{print $1+$2+$3+$4}')"
  kill_loop "${dir}" "change" "${changes}" \
    "cp \"${work}/kill-base.yaml\" \"${dir}/ferry.yaml\"; \"${ferry}\" apply \"${dir}\" --auto-approve >/dev/null 2>&1; cp \"${work}/kill-change.yaml\" \"${dir}/ferry.yaml\""

  expect_exit 0 "${ferry}" destroy "${dir}" --auto-approve
  sleep 1
  [[ -z "$(project_processes "${dir}")" ]] || fail "kill: processes left after destroy"
}

for scenario in "${scenarios[@]}"; do
  "scenario_${scenario}"
done
echo "apply_e2e: ${scenarios[*]}: passed"
