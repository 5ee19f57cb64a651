#!/usr/bin/env bash
# Seed scenario 2 with the docker CLI, sequential: two bridges with fixed subnets, a router
# (NET_ADMIN, namespaced ip_forward=1), two hosts (NET_ADMIN) that add their routes with
# `ip route add`, one ping across the router, teardown. Prints "phase NAME SECONDS" for
# setup (routes included), probing and teardown. Usage: cli_scenario2.sh [SESSION]
set -euo pipefail
session=${1:-}
source "$(dirname "$0")/cli_lib.sh"
stem="${session}-s2-$$"

now_us t0
a="${stem}-sample1"
b="${stem}-sample2"
networks+=("$a")
docker network create --label "$label" --subnet 10.231.201.0/24 "$a" >/dev/null
networks+=("$b")
docker network create --label "$label" --subnet 10.231.202.0/24 "$b" >/dev/null

router="${stem}-router"
containers+=("$router")
docker create --pull never --label "$label" --name "$router" --hostname router \
  --cap-add NET_ADMIN --sysctl net.ipv4.ip_forward=1 \
  --net "$a" --ip 10.231.201.3 "$image" >/dev/null
docker network connect --ip 10.231.202.3 "$b" "$router"
docker start "$router" >/dev/null

h1="${stem}-h1"
containers+=("$h1")
docker run -d --pull never --label "$label" --name "$h1" --hostname h1 --cap-add NET_ADMIN \
  --net "$a" --ip 10.231.201.4 "$image" >/dev/null
h2="${stem}-h2"
containers+=("$h2")
docker run -d --pull never --label "$label" --name "$h2" --hostname h2 --cap-add NET_ADMIN \
  --net "$b" --ip 10.231.202.2 "$image" >/dev/null
docker exec "$h1" ip route add 10.231.202.0/24 via 10.231.201.3
docker exec "$h2" ip route add 10.231.201.0/24 via 10.231.202.3
phase setup "$t0"

now_us t0
probe "$h1" ping -c1 -W1 10.231.202.2
phase probing "$t0"

now_us t0
teardown
phase teardown "$t0"
