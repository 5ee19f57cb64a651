#!/usr/bin/env bash
# After a whole run: fail when a finished (dead) run left anything labelled by pytest-dockernet
# on the engine, because a teardown was skipped; resources of live runs are not touched.
# It removes what it finds (with the plugin's own teardown), so the next run starts clean. The
# one exception, named loudly but not failed: a network that Docker refuses to remove for
# endpoints that no longer exist (moby/moby#42119), whose removal the run did attempt.
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python - <<'PY'
import sys

from pytest_dockernet.engine.client import connect
from pytest_dockernet.engine.teardown import is_dead, remove_labelled

found = remove_labelled(connect(), is_dead)
leaks = [f"container {n}" for n in found.containers] + [f"network {n}" for n in found.networks]
leaks += [f"volume {n}" for n in found.volumes]
leaks += [str(n) for n in found.failed]
print(f"leak check: {len(found.containers) + len(found.failed)} containers or failures, "
      f"{len(found.networks) + len(found.stuck)} networks, {len(found.volumes)} volumes "
      "of finished runs")
for stuck in found.stuck:
    print(f"  Docker bug moby/moby#42119, not a leak: network {stuck.name} has no container "
          "attached but Docker reports active endpoints; dockerd frees it when restarted")
for leak in leaks:
    print(f"  LEAK: {leak} (removed now, unless it says otherwise)")
sys.exit(1 if leaks else 0)
PY
