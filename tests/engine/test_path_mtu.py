"""assert_path_mtu against what the kernel and Docker do: a network's MTU option reaches its
containers' interfaces, and a router whose far side has the smaller MTU answers a larger
don't-fragment packet with "fragmentation needed" naming it (moby#20178, #22028: MTU problems
behind VPNs and overlays). The MTU option's reach is checked on a plain ``docker network
create`` network beside the plugin's.
"""

from __future__ import annotations

import pytest

from pytest_dockernet import assert_path_mtu

MTU = "com.docker.network.driver.mtu"


@pytest.fixture
def routed(dockernet):
    """h on a (Docker's default MTU) and far on b (MTU 1400), routed through r."""
    a = dockernet.network("a", routable=True, ipv6=True)
    b = dockernet.network("b", routable=True, ipv6=True, mtu=1400)
    r = dockernet.router("r", [a, b])
    h = dockernet.container("h", [a], routes={str(b.subnet): r, str(b.subnet6): r})
    far = dockernet.container("far", [b], routes={str(a.subnet): r, str(a.subnet6): r})
    return a, b, r, h, far


def test_one_network_has_its_mtu(dockernet, plain):
    lan = dockernet.network("lan")
    h1, h2 = dockernet.container("h1", [lan]), dockernet.container("h2", [lan])
    assert_path_mtu(h1, h2, 1500)
    small = dockernet.network("small", mtu=1400)
    s1, s2 = dockernet.container("s1", [small]), dockernet.container("s2", [small])
    assert_path_mtu(s1, s2, 1400)
    theirs = plain.network("theirs", options={MTU: "1400"})
    t1, t2 = (dockernet.existing_container(plain.container(n, [theirs]).name) for n in "ab")
    assert_path_mtu(t1, t2, 1400)  # the same between containers plain docker made


def test_a_router_names_the_smaller_mtu_of_its_far_side(routed):
    a, _, r, h, far = routed
    assert_path_mtu(h, far, 1400)
    with pytest.raises(AssertionError) as info:
        assert_path_mtu(h, far, 1500)
    message = str(info.value)
    assert "expected 1500, observed 1400" in message
    assert f"1500 bytes: fragmentation needed (next-hop MTU 1400) (from {r.ip(a)})" in message
    assert "1400 bytes: answered" in message
    assert "1401 bytes: fragmentation needed" in message
    assert MTU in message
    assert_path_mtu(far, h, 1400)  # far's own eth0 is 1400: larger is refused at the source


def test_over_ipv6_a_router_says_packet_too_big(routed):
    a, _, r, h, far = routed
    assert_path_mtu(h, far, 1400, family=6)
    with pytest.raises(
        AssertionError, match=rf"packet too big \(next-hop MTU 1400\) \(from {r.ip6(a)}\)"
    ):
        assert_path_mtu(h, far, 1500, family=6)


def test_from_an_upstream_the_host_is_the_router(dockernet, engine_version):
    # Docker >= 28 drops what a neighbour routes to a nat network (test_direct_routing.py)
    mode = "routed" if engine_version >= (28, 0) else None
    small = dockernet.network("small", mtu=1400, gateway_mode=mode)
    c = dockernet.container("c", [small])
    upstream = dockernet.upstream()
    dockernet.add_route(upstream, str(small.subnet), via=upstream.host_address)
    assert_path_mtu(upstream, c, 1400)
    with pytest.raises(AssertionError, match=rf"\(from {upstream.host_address}\)"):
        assert_path_mtu(upstream, c, 1500)


def test_nothing_answers_when_there_is_no_path(dockernet):
    one, two = dockernet.network("one"), dockernet.network("two")
    h, other = dockernet.container("h", [one]), dockernet.container("other", [two])
    with pytest.raises(AssertionError, match="observed nothing answered"):
        assert_path_mtu(h, other, 1500, timeout=0.2)


def test_misuse_is_refused(dockernet):
    lan = dockernet.network("lan")
    h = dockernet.container("h", [lan])
    with pytest.raises(ValueError, match="mtu"):
        assert_path_mtu(h, h, 10)
    with pytest.raises(TypeError, match="src must be a Container or an Upstream"):
        assert_path_mtu("h", h, 1500)
