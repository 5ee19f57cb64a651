"""Each assertion passes on a real topology, and fails with the observed state in its message."""

from __future__ import annotations

import re

import pytest

from pytest_dockernet import (
    assert_bridge_members,
    assert_host_route,
    assert_masquerade,
    assert_no_masquerade,
    assert_reachable,
    assert_route,
    assert_unreachable,
    host_veth,
)
from pytest_dockernet.engine.netns import iproute


@pytest.fixture
def seed(dockernet):
    """Scenario 1, plus a third container on a second network."""
    net = dockernet.network("sample")
    other = dockernet.network("other")
    c1 = dockernet.container("container1", networks=[net])
    c2 = dockernet.container("container2", networks=[net])
    c3 = dockernet.container("container3", networks=[other])
    return net, other, c1, c2, c3


def test_bridge_members(seed):
    net, other, c1, c2, c3 = seed
    assert_bridge_members(net, [c1, c2])
    assert_bridge_members(net, [c1, c2], exact=True)
    assert_bridge_members(net, [c1])
    with pytest.raises(AssertionError) as info:
        assert_bridge_members(net, [c1], exact=True)
    text = str(info.value)
    assert f"bridge {net.bridge} of network 'sample'" in text
    assert re.search(r"observed ports: veth\w+ \(container\d\), veth\w+ \(container\d\)", text)
    assert re.search(r"unexpected: veth\w+ \(container2\)", text)


def test_bridge_members_missing_names_where_the_veth_is(seed, dockernet):
    """A container Docker disconnected behind the test's back is reported as missing."""
    net, other, c1, c2, c3 = seed
    both = dockernet.container("both", networks=[net, other])
    assert_bridge_members(other, [c3, both], exact=True)
    dockernet.client.api.disconnect_container_from_network(both.id, other.id, force=True)
    with pytest.raises(AssertionError) as info:
        assert_bridge_members(other, [c3, both])
    assert "missing: both (no host veth found)" in str(info.value)
    assert re.search(r"observed ports: veth\w+ \(container3\)$", str(info.value), re.M)


def test_bridge_members_of_a_container_on_another_network(seed):
    """Asking whether c3 is on this bridge is what the assertion is for: a failure, not misuse."""
    net, other, c1, c2, c3 = seed
    with pytest.raises(AssertionError) as info:
        assert_bridge_members(net, [c1, c3])
    text = str(info.value)
    assert (
        f"missing: container3 (not on 'sample': its host veth {host_veth(c3, other)} is a port "
        f"of {other.bridge} (network 'other'))" in text
    )
    observed = re.search(r"observed ports: (.*)$", text, re.M)
    assert observed is not None
    assert sorted(observed.group(1).split(", ")) == sorted(
        [f"{host_veth(c1, net)} (container1)", f"{host_veth(c2, net)} (container2)"]
    )


def test_bridge_members_misuse(seed):
    net, other, c1, c2, c3 = seed
    with pytest.raises(TypeError, match="net must be a Network"):
        assert_bridge_members("sample", [c1])


def test_routes(seed):
    net, other, c1, c2, c3 = seed
    assert_route(c1, "default", via=net.gateway)
    assert_route(c1, "default", via=str(net.gateway), dev="eth0")
    assert_route(c1, str(net.subnet), dev="eth0")
    assert_route(c1, net.subnet)
    with pytest.raises(AssertionError) as info:
        assert_route(c1, "default", via=other.gateway)
    text = str(info.value)
    assert f"no route 'default via {other.gateway}' in container 'container1'" in text
    assert f"default via {net.gateway} dev eth0" in text
    assert f"{net.subnet} dev eth0" in text
    with pytest.raises(AssertionError, match="no route '10.231.77.0/24 dev eth0'"):
        assert_route(c1, "10.231.77.0/24", dev="eth0")


def test_route_via_a_container(dockernet):
    a, b = dockernet.network("a"), dockernet.network("b")
    r = dockernet.router("r", networks=[a, b])
    h = dockernet.container("h", networks=[a], routes={str(b.subnet): r})
    assert_route(h, b.subnet, via=r)
    assert_route(h, b.subnet, via=r.ip(a), dev="eth0")
    with pytest.raises(AssertionError, match=f"routes .*\n.*default via {a.gateway}"):
        assert_route(h, b.subnet, via=a.gateway)


def test_route_misuse(seed):
    net, other, c1, c2, c3 = seed
    with pytest.raises(ValueError, match="'default-ish'"):
        assert_route(c1, "default-ish")
    with pytest.raises(TypeError, match="container must be a Container"):
        assert_route("container1", "default")


def test_host_route(seed):
    net, other, c1, c2, c3 = seed
    assert_host_route(net.subnet, dev=net.bridge)
    assert_host_route(str(other.subnet), dev=other.bridge)
    with pytest.raises(AssertionError) as info:
        assert_host_route(net.subnet, dev=other.bridge)
    assert f"no route '{net.subnet} dev {other.bridge}' in the host" in str(info.value)
    assert f"{net.subnet} dev {net.bridge}" in str(info.value)


def test_reachable_and_unreachable(seed):
    net, other, c1, c2, c3 = seed
    assert_reachable(c1, c2, count=2, reply_ttl=64)
    assert_reachable(c1, "container2")
    assert_reachable(c1, str(c2.ip(net)))
    assert_reachable(c1, net.gateway)
    nobody = net.subnet.broadcast_address - 1  # in the subnet, no host: ARP gets no answer
    assert_unreachable(c1, nobody, timeout=0.3)
    with pytest.raises(AssertionError) as info:
        assert_reachable(c1, nobody, timeout=0.3)
    text = str(info.value)
    assert f"container 'container1' cannot reach {nobody}:" in text
    assert "1 sent, 0 received" in text
    with pytest.raises(AssertionError) as info:
        assert_unreachable(c1, c2)
    assert "can reach container 'container2'" in str(info.value)
    assert "1 sent, 1 received" in str(info.value)
    assert "ttl=64" in str(info.value)


def test_reachable_by_a_name_that_does_not_resolve_from_here(seed):
    net, other, c1, c2, c3 = seed
    with pytest.raises(
        AssertionError, match="'container3' .*did not resolve in container 'container1'"
    ):
        assert_reachable(c1, "container3")
    assert_unreachable(c1, "container3")


def test_docker_isolates_bridges(seed):
    net, other, c1, c2, c3 = seed
    assert_unreachable(c1, c3, timeout=0.3)
    with pytest.raises(AssertionError) as info:
        assert_reachable(c1, c3, timeout=0.3)
    assert f"cannot reach container 'container3' at {c3.ip(other)} on 'other'" in str(info.value)


def test_reply_ttl_mismatch(seed):
    net, other, c1, c2, c3 = seed
    with pytest.raises(AssertionError, match=r"replies arrive with ttl \[64\], expected 63"):
        assert_reachable(c1, c2, reply_ttl=63)


def test_unreachable_without_a_route(seed):
    """With its default route deleted, the sender's kernel refuses at once."""
    net, other, c1, c2, c3 = seed
    with iproute(c1.pid) as ipr:
        ipr.route("del", dst="0.0.0.0/0")
    with pytest.raises(AssertionError, match="send failed: Network is unreachable"):
        assert_reachable(c1, c3)
    assert_unreachable(c1, c3)
    assert_reachable(c1, c2)


def test_reachability_misuse(seed):
    net, other, c1, c2, c3 = seed
    with pytest.raises(ValueError, match="count must be a positive int"):
        assert_reachable(c1, c2, count=0)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        assert_reachable(c1, c2, timeout=-1)
    with pytest.raises(TypeError, match="dst must be a Container"):
        assert_reachable(c1, 42)


def test_masquerade(dockernet):
    loud = dockernet.network("loud")
    quiet = dockernet.network("quiet", masquerade=False)
    assert_masquerade(loud)
    assert_no_masquerade(quiet)
    with pytest.raises(AssertionError) as info:
        assert_masquerade(quiet)
    text = str(info.value)
    assert f"no masquerade rule for network 'quiet' ({quiet.subnet}" in text
    assert "firewall: iptables-" in text
    assert f"nat rules mentioning {quiet.subnet} or {quiet.bridge}" in text
    with pytest.raises(AssertionError) as info:
        assert_no_masquerade(loud)
    assert f"-s {loud.subnet} ! -o {loud.bridge} -j MASQUERADE" in str(info.value)
