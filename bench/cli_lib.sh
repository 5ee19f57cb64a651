# Sourced by the cli_*.sh baselines: the run's label, cleanup of what the script created,
# and phase timing in pure bash (no fork inside the timed region).
# shellcheck shell=bash

session=${session:-bench-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')}
image=${BENCH_IMAGE:-pytest-dockernet/busybox:0.1.0}
label="pytest-dockernet.session=${session}"

containers=() # recorded before each is created, so the trap removes half-created ones too
networks=()
cleanup() {
  # Only what this script recorded; "no such container/network" is not an error here.
  if [ ${#containers[@]} -gt 0 ]; then docker rm -f "${containers[@]}" >/dev/null 2>&1 || true; fi
  if [ ${#networks[@]} -gt 0 ]; then docker network rm "${networks[@]}" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now_us() { # microseconds since the epoch, into the variable named $1
  printf -v "$1" '%s' "${EPOCHREALTIME//[!0-9]/}"
}
phase() { # phase NAME START_US: print "phase NAME SECONDS" since START_US
  local now d
  now_us now
  d=$((now - $2))
  printf 'phase %s %d.%06d\n' "$1" $((d / 1000000)) $((d % 1000000))
}

size_arg() { # the N of the matrix scripts: 2..200, or exit 2 naming the bad value
  if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 2 ] || [ "$1" -gt 200 ]; then
    echo "N must be 2..200, got $1" >&2
    exit 2
  fi
}

# probe CONTAINER CMD...: `docker exec` it. A failure is printed to stderr ("retried: ...", shown
# by the bench) and tried once more, so one lost packet on a loaded machine does not end the
# whole benchmark; a second failure ends the script.
probe() {
  local out
  if out=$(docker exec "$@" 2>&1); then return 0; fi
  echo "retried: docker exec $* failed once: ${out//$'\n'/ | }" >&2
  if out=$(docker exec "$@" 2>&1); then return 0; fi
  echo "docker exec $* failed twice: ${out//$'\n'/ | }" >&2
  return 1
}

# The normal teardown, timed as part of the scenario; afterwards the trap has nothing to do.
teardown() {
  if [ ${#containers[@]} -gt 0 ]; then docker rm -f "${containers[@]}" >/dev/null; fi
  containers=()
  if [ ${#networks[@]} -gt 0 ]; then docker network rm "${networks[@]}" >/dev/null; fi
  networks=()
}
