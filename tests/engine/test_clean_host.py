"""A whole run leaves the host as it found it: links, routes, net.ipv4 sysctls, firewall.

Marked ``serial``: it compares the whole host, so nothing else may run beside it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pytest_dockernet.observe.links import links
from pytest_dockernet.observe.routes import routes

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SYSCTL_ROOT = Path("/proc/sys/net/ipv4")


def _sysctls() -> dict[str, str]:
    """Every readable IPv4 sysctl; a link's directory may vanish while it is read (os.walk
    skips what it can no longer list)."""
    values = {}
    for folder, _, files in os.walk(SYSCTL_ROOT):
        for name in files:
            path = Path(folder, name)
            if not os.access(path, os.R_OK):
                continue
            try:
                values[str(path.relative_to(SYSCTL_ROOT))] = path.read_text().strip()
            except OSError:
                continue  # write-only entries such as route/flush, or a link just gone
    return dict(sorted(values.items()))


def _rules() -> list[str]:
    """Every iptables rule, without counters: what Docker and anyone else wrote."""
    out = subprocess.run(["iptables-save"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if line.startswith("-A")]


def snapshot() -> dict[str, object]:
    return {
        "links": sorted((link.name, link.kind) for link in links(None)),
        "routes": sorted(str(r) for r in routes(None)),
        "sysctls": _sysctls(),
        "rules": _rules(),
    }


@pytest.mark.serial
def test_a_full_run_leaves_the_host_as_it_was(pytester, dockernet_factory):
    dockernet_factory.settle()  # earlier tests' background teardowns are part of "before"
    before = snapshot()
    result = pytester.runpytest_subprocess(str(EXAMPLES), "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)  # seed scenarios, dual-stack, packet walk, NAT, tiers, compose
    after = snapshot()
    for key in before:
        assert after[key] == before[key], key
    assert len(before["rules"]) > 0  # the comparison saw Docker's own rules
