"""Starts in the background: no error is lost, nothing leaks when a test ends (or is
interrupted) while containers are still starting, and Docker's view matches the plugin's."""

from __future__ import annotations

import pytest

from pytest_dockernet import DockerNet, assert_reachable
from pytest_dockernet.engine import labels
from tests.conftest import labelled

UNUSED_FAILURE = """
def test_asks_and_never_uses(dockernet):
    net = dockernet.network("n")
    dockernet.container("bad", networks=[net], command=["/no/such/binary"])
"""


def test_a_failed_start_the_test_never_used_fails_its_teardown(pytester, client):
    pytester.makepyfile(test_unused=UNUSED_FAILURE)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_asks_and_never_uses*",
            "*'bad'*did not start*",
            "*dockernet.container('bad') was called at test_unused.py:3*",
        ]
    )
    result.stdout.no_fnmatch_line("*could not remove*")


def test_closing_while_containers_start_leaves_nothing(client):
    dn = DockerNet(client)
    net = dn.network("n")
    many = [dn.container(f"c{i}", networks=[net]) for i in range(12)]
    assert not all(c.starting is not None and c.starting.done() for c in many)
    dn.close()  # most are still being created or queued
    assert labelled(client, labels.SESSION, dn.identity.run_id) == []
    assert dn.leftovers == []


def test_routes_via_a_router_still_starting_are_added_once_each_runs(dockernet):
    # routable: the router's forwards pass Docker >= 28's direct-routing drop on any host
    a, b = dockernet.network("a", routable=True), dockernet.network("b", routable=True)
    h1 = dockernet.container("h1", networks=[a], routes={str(b.subnet): a.subnet[4]})
    h2 = dockernet.container("h2", networks=[b], routes={str(a.subnet): b.subnet[4]})
    dockernet.router("r", networks={a: str(a.subnet[4]), b: str(b.subnet[4])})
    assert_reachable(h1, h2, reply_ttl=63)


def test_many_containers_asked_one_after_another_start_together(dockernet):
    net = dockernet.network("n")
    hosts = [dockernet.container(f"h{i}", networks=[net]) for i in range(6)]
    running = sum(1 for h in hosts if h.starting is not None and not h.starting.done())
    assert running >= 1  # the calls returned before the starts ended
    assert [h.ip(net) for h in hosts] == [net.subnet[i] for i in range(2, 8)]
    with pytest.raises(ValueError, match="already taken by container 'h0'"):
        dockernet.container("late", networks={net: str(net.subnet[2])})
    assert_reachable(hosts[0], hosts[-1])
