#!/usr/bin/env bash
# Make this machine ready for pytest-dockernet, as root on Debian or Ubuntu:
# a Docker engine that answers (Debian's docker.io, dockerd started if none answers),
# Docker Compose v2 (trixie's docker-compose), iptables and nftables to read the firewall,
# busybox-static for the built-in image, Graphviz's dot for --dockernet-report, Chromium and
# chromedriver for the report's browser test,
# and a virtualenv in .venv holding the package with its test, lint (tox among them), docs
# (mkdocs), browser (Selenium) and html (pytest-html) extras.
# Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v iptables-save >/dev/null || need+=(iptables)
command -v nft >/dev/null || need+=(nftables)
command -v dot >/dev/null || need+=(graphviz)  # --dockernet-report draws with dot
# The report's browser test: Debian's Chromium and its driver (Selenium downloads nothing then)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 || need+=(busybox-static)
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
fi

# Docker Compose v2, for dockernet.compose(): bookworm's docker-compose is v1, so trixie's
# (2.26) alone; --no-install-recommends keeps bookworm's docker.io and docker-cli as they are.
compose_v2() {
  { docker compose version --short 2>/dev/null || docker-compose version --short 2>/dev/null; } \
    | grep -q '^v\?2\.'
}
if ! compose_v2; then
  echo "setup: installing docker-compose from trixie"
  # shellcheck source=scripts/apt-suites.sh
  source scripts/apt-suites.sh
  add_suites
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    docker-compose/trixie >/dev/null
  compose_v2 || { echo "setup: docker-compose/trixie installed, but no Compose v2 runs" >&2; exit 1; }
fi

if ! docker info >/dev/null 2>&1; then
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    echo "setup: no engine answers and no systemd: starting dockerd (log: /var/log/dockerd.log)"
    # In its own session, with no descriptor of ours but the log: a daemon holding an
    # inherited pipe or lock open would keep whatever started this script waiting on it.
    (
      for fd in /proc/$BASHPID/fd/*; do
        fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-"
      done
      exec setsid dockerd >>/var/log/dockerd.log 2>&1 </dev/null
    ) &
  fi
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { echo "setup: dockerd did not answer; see /var/log/dockerd.log" >&2; exit 1; }
fi

# The lint extra brings tox, which scripts/run uses for the lowest-versions environment; the
# docs extra brings mkdocs, which its lint step builds the documentation with.
if [ ! -x .venv/bin/pytest ] || [ ! -x .venv/bin/tox ] || [ ! -x .venv/bin/mkdocs ] \
    || [ pyproject.toml -nt .venv/.installed ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[test,lint,docs,browser,html]'
  touch .venv/.installed
fi
echo "setup: $(docker version -f 'engine {{.Server.Version}}') | $(docker compose version) |" \
  "$(iptables -V) | $(.venv/bin/python -V)"
