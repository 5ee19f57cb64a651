"""One plugin matrix in a fresh process, so its resident memory is the plugin's alone.

``python -m bench.child N SESSION TAG [--ipv6]`` builds and probes an N-container matrix with
DockerNet (on a dual-stack bridge, over both families, with ``--ipv6``), labelled with the
parent's SESSION, and prints one JSON line: the timings, how it probed, and VmRSS before and
after plus ru_maxrss (KiB).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys

import docker

from pytest_dockernet.engine import images
from pytest_dockernet.engine.teardown import interrupt_on_sigterm
from pytest_dockernet.observe import subnets

from . import plugin_runs
from .common import BenchSession, vmrss_kb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.child", description=__doc__)
    parser.add_argument("n", type=int)
    parser.add_argument("session")
    parser.add_argument("tag")
    parser.add_argument("--ipv6", action="store_true")
    args = parser.parse_args(argv)
    interrupt_on_sigterm()
    client = docker.from_env()
    images.ensure_default_image(client)
    subnets.occupied(client)  # warm up: engine connection and host netlink, read once
    before = vmrss_kb()
    timings, how = plugin_runs.matrix(
        client,
        BenchSession(args.session),
        args.n,
        stem=f"mx{args.tag}-",
        ipv6=args.ipv6,
    )
    result = {
        "timings": timings,
        "probing": how,
        "vmrss_kb_before": before,
        "vmrss_kb_after": vmrss_kb(),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
