"""Isolation verdicts while another process creates and removes networks on the same engine.

Docker 20.10 re-inserts its isolation jump on every network create, and a cross-bridge packet
that arrives in the gap passes. The raw pings below show how often that happens here; the
plugin's verdicts over the same path must never be wrong: each is right, or it is repeated, or
it is reported as churn.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from pytest_dockernet import assert_reachable, assert_unreachable
from pytest_dockernet.errors import FirewallChurnError
from pytest_dockernet.observe.firewall import Backend, churn, detect_backend
from pytest_dockernet.observe.ping import ping

CHURN = textwrap.dedent(
    """
    import sys, time, docker
    from pytest_dockernet import DockerNet
    end = time.monotonic() + float(sys.argv[1])
    made = 0
    with DockerNet(docker.from_env(), scope="churn") as dn:
        while time.monotonic() < end:
            net = dn.network(f"c{made}")
            dn.client.api.remove_network(net.id)
            del dn.networks[net.alias]
            made += 1
    print(made)
    """
)
SECONDS = 8.0


@pytest.fixture
def churner():
    """A separate process creating and removing labelled networks for SECONDS."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHURN, str(SECONDS)], stdout=subprocess.PIPE, text=True
    )
    yield proc
    proc.wait(timeout=120)


@pytest.fixture
def rule_handles(client):
    """Skip where the churn cannot be seen: before the churner starts, not after it ran."""
    if detect_backend(client.info()) is Backend.IPTABLES_LEGACY:
        pytest.skip(
            "the iptables-legacy variant has no rule handles, so a rewrite during a probe is "
            "not seen there (README, Docker versions): isolation checks need a quiet engine"
        )


@pytest.mark.serial  # how many probes overlap the churn must not depend on other tests' load
def test_isolation_verdicts_are_never_wrong_while_networks_churn(rule_handles, dockernet, churner):
    a, b = dockernet.network("a"), dockernet.network("b")
    # Routed by the host: only Docker's isolation rules stand between the two bridges.
    h1 = dockernet.container("h1", networks=[a], routes={str(b.subnet): str(a.gateway)})
    h2 = dockernet.container("h2", networks=[b], routes={str(a.subnet): str(b.gateway)})
    r = dockernet.router("router", networks=[a, b])
    h3 = dockernet.container("h3", networks=[a], routes={str(b.subnet): r})
    h4 = dockernet.container("h4", networks=[b], routes={str(a.subnet): r})
    bridges = {a.bridge, b.bridge}
    raw = leaked = unexplained = verdicts = reported = 0
    while churner.poll() is None:
        before = churn.rules()
        answer = ping(h1.pid, h2.ip(b), count=1, timeout=0.02)
        changes = churn.changes_between(before, churn.rules(), bridges)
        raw += 1
        if answer.received:
            leaked += 1
            unexplained += not changes
        try:
            assert_unreachable(h1, h2, timeout=0.02)  # an AssertionError here is a wrong verdict
            assert_reachable(h3, h4)  # through the router: never blocked by the churn
            verdicts += 1
        except FirewallChurnError:
            reported += 1
    made = int(churner.stdout.read() or 0)
    print(
        f"{made} networks churned; raw pings {raw}, leaked {leaked} (unexplained {unexplained}); "
        f"verdict pairs {verdicts}, repeated {dockernet.registry.repeated_probes}, "
        f"reported {reported}"
    )
    assert made > 5, "the churn did not run: the test proved nothing"
    assert raw >= 20, "too few probes overlapped the churn to show anything"
    assert unexplained == 0, "a leak happened that no rule change explains"
    assert verdicts > raw // 2, "most verdicts were reported as churn instead of given"
