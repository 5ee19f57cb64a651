#!/usr/bin/env bash
# Seed scenario 1 with the docker CLI, sequential: one bridge, two containers, one ping by
# name, teardown. Prints "phase NAME SECONDS" for setup, probing and teardown.
# Usage: cli_scenario1.sh [SESSION]  (the label value; default bench-<random>).
# BENCH_IMAGE overrides the image; nothing is ever pulled.
set -euo pipefail
session=${1:-}
source "$(dirname "$0")/cli_lib.sh"
stem="${session}-s1-$$"

now_us t0
net="${stem}-net"
networks+=("$net")
docker network create --label "$label" --subnet 10.231.200.0/24 "$net" >/dev/null
for c in container1 container2; do
  containers+=("${stem}-${c}")
  docker run -d --pull never --label "$label" --name "${stem}-${c}" --hostname "$c" \
    --net "$net" --network-alias "$c" "$image" >/dev/null
done
phase setup "$t0"

now_us t0
probe "${stem}-container1" ping -c1 -W1 container2
phase probing "$t0"

now_us t0
teardown
phase teardown "$t0"
