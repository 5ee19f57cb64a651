#!/usr/bin/env bash
# Port matrix with the docker CLI, sequential: N containers on one bridge, each running a
# busybox `nc` server on TCP 5432 as its command, then `docker exec SRC nc -w 1 DST_IP 5432`
# for all N*(N-1) ordered pairs (its exit code: 0 once connected and closed by the server, 1
# when refused or timed out), then teardown. This busybox's nc has no -z: the client's stdin
# is empty and the server (-ll: persistent, -e: runs `true` per connection) closes at once.
# Prints "phase NAME SECONDS" for setup, probing and teardown. Usage: cli_ports.sh N [SESSION]
set -euo pipefail
n=${1:?usage: cli_ports.sh N [SESSION]}
session=${2:-}
source "$(dirname "$0")/cli_lib.sh"
size_arg "$n"
stem="${session}-pm-$$"
port=5432

now_us t0
net="${stem}-net"
networks+=("$net")
docker network create --label "$label" --subnet 10.231.204.0/24 "$net" >/dev/null
for ((i = 1; i <= n; i++)); do
  containers+=("${stem}-c${i}")
  docker run -d --pull never --label "$label" --name "${stem}-c${i}" --hostname "c${i}" \
    --net "$net" --ip "10.231.204.$((10 + i))" "$image" \
    nc -ll -p "$port" -e /bin/busybox true >/dev/null
done
phase setup "$t0"

now_us t0
for ((i = 1; i <= n; i++)); do
  for ((j = 1; j <= n; j++)); do
    if [ "$i" -ne "$j" ]; then
      probe "${stem}-c${i}" nc -w 1 "10.231.204.$((10 + j))" "$port" </dev/null
    fi
  done
done
phase probing "$t0"

now_us t0
teardown
phase teardown "$t0"
