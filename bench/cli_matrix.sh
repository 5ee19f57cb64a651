#!/usr/bin/env bash
# Full reachability matrix with the docker CLI, sequential: N containers on one bridge, then
# `docker exec ping -c1 -W1` for all N*(N-1) ordered pairs, then teardown. Prints
# "phase NAME SECONDS" for setup, probing and teardown. Usage: cli_matrix.sh N [SESSION]
set -euo pipefail
n=${1:?usage: cli_matrix.sh N [SESSION]}
session=${2:-}
source "$(dirname "$0")/cli_lib.sh"
size_arg "$n"
stem="${session}-mx-$$"

now_us t0
net="${stem}-net"
networks+=("$net")
docker network create --label "$label" --subnet 10.231.203.0/24 "$net" >/dev/null
for ((i = 1; i <= n; i++)); do
  containers+=("${stem}-c${i}")
  docker run -d --pull never --label "$label" --name "${stem}-c${i}" --hostname "c${i}" \
    --net "$net" --ip "10.231.203.$((10 + i))" "$image" >/dev/null
done
phase setup "$t0"

now_us t0
for ((i = 1; i <= n; i++)); do
  for ((j = 1; j <= n; j++)); do
    if [ "$i" -ne "$j" ]; then
      probe "${stem}-c${i}" ping -c1 -W1 "10.231.203.$((10 + j))"
    fi
  done
done
phase probing "$t0"

now_us t0
teardown
phase teardown "$t0"
