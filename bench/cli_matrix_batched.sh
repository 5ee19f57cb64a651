#!/usr/bin/env bash
# The same matrix as cli_matrix.sh, written the fastest way a shell script can: the N
# `docker run`s at once, then one `docker exec` per container pinging all the others in a
# loop, all N at once. Prints "phase NAME SECONDS" for setup, probing and teardown.
# Usage: cli_matrix_batched.sh N [SESSION]
set -euo pipefail
n=${1:?usage: cli_matrix_batched.sh N [SESSION]}
session=${2:-}
source "$(dirname "$0")/cli_lib.sh"
size_arg "$n"
stem="${session}-mb-$$"

wait_all() { # wait for every background job; fail if any failed
  local pid failed=0
  for pid in "$@"; do wait "$pid" || failed=1; done
  return $failed
}

now_us t0
net="${stem}-net"
networks+=("$net")
docker network create --label "$label" --subnet 10.231.205.0/24 "$net" >/dev/null
pids=()
for ((i = 1; i <= n; i++)); do
  containers+=("${stem}-c${i}")
  docker run -d --pull never --label "$label" --name "${stem}-c${i}" --hostname "c${i}" \
    --net "$net" --ip "10.231.205.$((10 + i))" "$image" >/dev/null &
  pids+=($!)
done
wait_all "${pids[@]}"
phase setup "$t0"

now_us t0
pids=()
for ((i = 1; i <= n; i++)); do
  others=""
  for ((j = 1; j <= n; j++)); do
    if [ "$i" -ne "$j" ]; then others+=" 10.231.205.$((10 + j))"; fi
  done
  # A lost ping is tried once more, as probe() does for the step-by-step script.
  probe "${stem}-c${i}" sh -c "for ip in$others; do ping -c1 -W1 \$ip >/dev/null \
    || ping -c1 -W1 \$ip >/dev/null || exit 1; done" &
  pids+=($!)
done
wait_all "${pids[@]}"
phase probing "$t0"

now_us t0
teardown
phase teardown "$t0"
