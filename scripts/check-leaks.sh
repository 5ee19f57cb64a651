#!/usr/bin/env bash
# Fail when anything labelled by pytest-dockernet is still on the engine after a run.
set -euo pipefail
c=$(docker ps -aq --filter label=pytest-dockernet.session | wc -l)
n=$(docker network ls -q --filter label=pytest-dockernet.session | wc -l)
echo "leak check: $c containers, $n networks labelled pytest-dockernet.session"
if [ "$c" -ne 0 ] || [ "$n" -ne 0 ]; then
  docker ps -a --filter label=pytest-dockernet.session
  docker network ls --filter label=pytest-dockernet.session
  exit 1
fi
