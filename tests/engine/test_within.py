"""within= on the ping and path assertions: tried again until the topology converges, and a
failure that lists every attempt."""

from __future__ import annotations

import threading

import pytest

from pytest_dockernet import assert_path, assert_reachable, assert_unreachable


@pytest.fixture
def routed(dockernet):
    """Two bridges and a router; h2 has its route back, h1's route comes later (until then
    h1's packets go through the host, where Docker's isolation drops them on every engine)."""
    # routable: the router's forwards pass Docker >= 28's direct-routing drop on any host
    a = dockernet.network("a", routable=True)
    b = dockernet.network("b", routable=True)
    r = dockernet.router("r", networks=[a, b])
    h1 = dockernet.container("h1", networks=[a])
    h2 = dockernet.container("h2", networks=[b], routes={str(a.subnet): r})
    for c in (r, h1, h2):  # within= counts from the call: let the starts not eat it here
        c.wait_started()
    return a, b, r, h1, h2


def test_reachable_within_waits_for_a_route_added_later(dockernet, routed):
    a, b, r, h1, h2 = routed
    assert_unreachable(h1, h2, timeout=0.3)  # no route from h1 yet
    later = threading.Timer(0.5, dockernet.add_route, (h1, str(b.subnet)), {"via": r})
    later.start()
    try:
        assert_reachable(h1, h2, reply_ttl=63, within=10)
        assert_path(h1, h2, via=r, within=10)
    finally:
        later.join()


def test_reachable_within_fails_with_every_attempt_and_the_rule(routed):
    a, b, r, h1, h2 = routed
    for started in (r, h1, h2):  # the first attempt would wait for the starts otherwise
        started.wait_started()
    # 3 s, not less: under -n 4 beside the pool's reuse one attempt (a 0.2 s ping between two
    # readings of the rules, read again while Docker rewrites them) took over 0.8 s twice
    with pytest.raises(AssertionError) as info:
        assert_reachable(h1, h2, timeout=0.2, within=3)
    text = str(info.value)
    assert text.startswith("did not hold within 3 s (")
    assert "cannot reach container 'h2'" in text
    assert "earlier attempts" in text
    assert "why" in text and "trace:" in text  # the diagnosis runs once, after the last try
    assert text.count("trace:") == 1


def test_unreachable_and_path_within_fail_listing_attempts(routed):
    a, b, r, h1, h2 = routed
    with pytest.raises(AssertionError, match=r"did not hold within 0.3 s[\s\S]*can reach"):
        assert_unreachable(h1, r, within=0.3)
    with pytest.raises(AssertionError) as info:
        assert_path(h1, h2, via=r, timeout=0.2, within=0.5)
    assert "did not hold within 0.5 s" in str(info.value)
    assert "the request never reached container 'h2'" in str(info.value)
