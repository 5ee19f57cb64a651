"""Create and remove networks until stopped: another process of the plugin on this machine
(another run, or a worker of this one).

Run as ``python -m soak.churn SECONDS``. Every network is made and removed through the plugin,
so it is labelled, removed even when this process is stopped, and changed under the machine's
firewall lock like any run's; the count goes to stdout at the end.
"""

from __future__ import annotations

import sys
import time

import docker

from pytest_dockernet import DockerNet
from pytest_dockernet.engine.teardown import interrupt_on_sigterm, remove_network


def main(seconds: float) -> int:
    interrupt_on_sigterm()
    made = 0
    end = time.monotonic() + seconds
    with DockerNet(docker.from_env(), scope="churn") as dn:
        try:
            while time.monotonic() < end:
                net = dn.network(f"c{made}")
                remove_network(dn.client, net.id, net.name)
                del dn.networks[net.alias]
                made += 1
        except KeyboardInterrupt:
            pass
    print(made, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1])))
