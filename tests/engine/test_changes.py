"""connect, disconnect and restart during a test against moby's promises (integration-cli
TestUserDefinedNetworkConnectDisconnectAlias, TestDockerNetworkConnectPreferredIP,
TestDockerNetworkRestartWithMultipleNetworks): the Container value follows what Docker did,
and Docker's own inspect of the container is the oracle beside every verdict.

The test that disconnects runs serially: issue 14 saw 20.10's dockerd deadlock on
disconnects beside other tests' network creates and removals; alone, it measures Docker's
promise, not that race.
"""

from __future__ import annotations

import ipaddress

import pytest

from pytest_dockernet import (
    assert_not_resolvable,
    assert_reachable,
    assert_resolves,
    assert_route,
    assert_unreachable,
)
from pytest_dockernet.errors import DockernetError


def endpoints(client, container):
    return client.api.inspect_container(container.id)["NetworkSettings"]["Networks"]


@pytest.mark.serial
def test_user_defined_network_connect_disconnect_alias(dockernet, client):
    net1 = dockernet.network("net1")
    net2 = dockernet.network("net2")
    first = dockernet.container("first", [net1], aliases=["foo"])
    second = dockernet.container("second", [net1])
    assert_resolves(second, "foo", to=first.ip(net1))

    dockernet.connect(first, net2, aliases=["bar"])
    dockernet.connect(second, net2)
    assert first.networks == (net1, net2)
    assert {"first", "bar"} <= set(endpoints(client, first)[net2.name]["Aliases"])
    assert first.ip(net2) == ipaddress.IPv4Address(endpoints(client, first)[net2.name]["IPAddress"])
    assert_resolves(second, "bar", to=first.ip(net2))
    assert_reachable(second, first.ip(net2))

    old = first.ip(net1)
    dockernet.disconnect(first, net1)
    assert net1.name not in endpoints(client, first)
    assert first.networks == (net2,)
    with pytest.raises(ValueError, match="is not on network"):
        first.ip(net1)
    assert_not_resolvable(second, "foo")  # net1's alias went with the endpoint
    assert_resolves(second, "bar", to=first.ip(net2))
    assert_resolves(second, "first", to=first.ip(net2))
    assert_unreachable(second, old)


def test_docker_network_connect_preferred_ip(dockernet, client):
    n0 = dockernet.network("n0", subnet6="fd64:6e65:7400:c0::/64")
    n1 = dockernet.network("n1", subnet6="fd64:6e65:7400:c1::/64")
    at88 = n0.subnet.network_address + 88
    c0 = dockernet.container("c0", {n0: (str(at88), "fd64:6e65:7400:c0::9988")})
    wanted4 = n1.subnet.network_address + 44
    dockernet.connect(c0, n1, ip=(str(wanted4), "fd64:6e65:7400:c1::5544"))
    before = c0.init_pid

    dockernet.restart(c0, timeout=0)

    assert c0.init_pid != before
    seen = endpoints(client, c0)
    assert seen[n0.name]["IPAddress"] == str(at88)
    assert seen[n0.name]["GlobalIPv6Address"] == "fd64:6e65:7400:c0::9988"
    assert seen[n1.name]["IPAddress"] == str(wanted4)
    assert seen[n1.name]["GlobalIPv6Address"] == "fd64:6e65:7400:c1::5544"
    assert c0.ip(n1) == wanted4
    assert c0.ip6(n1) == ipaddress.IPv6Address("fd64:6e65:7400:c1::5544")
    probe = dockernet.container("probe", [n1])
    assert_reachable(probe, c0.ip(n1))
    assert_reachable(probe, c0.ip6(n1))


def test_docker_network_restart_with_multiple_networks(dockernet, client):
    lan = dockernet.network("lan")
    test = dockernet.network("test")
    foo = dockernet.container("foo", [lan])
    dockernet.connect(foo, test)
    dockernet.restart(foo, timeout=0)
    assert {lan.name, test.name} <= set(endpoints(client, foo))
    assert foo.networks == (lan, test)
    peer = dockernet.container("peer", [test])
    assert_reachable(peer, foo)


def test_a_restart_adds_the_routes_given_at_creation_again_and_not_later_ones(dockernet):
    a = dockernet.network("a", routable=True)  # Docker >= 28 drops routed packets otherwise
    b = dockernet.network("b", routable=True)
    r = dockernet.router("r", [a, b])
    h = dockernet.container("h", [a], routes={str(b.subnet): r})
    dockernet.add_route(h, "10.250.0.0/24", via=r)
    dockernet.restart(h, timeout=0)
    assert_route(h, b.subnet, via=r.ip(a))
    with pytest.raises(AssertionError, match="10.250.0.0/24"):
        assert_route(h, "10.250.0.0/24", via=r.ip(a))
    far = dockernet.container("far", [b], routes={str(a.subnet): r})
    assert_reachable(h, far)


def test_published_ports_follow_a_restart(dockernet, client):
    net = dockernet.network("net")
    web = dockernet.container("web", [net], ports={8080: None})
    dockernet.restart(web, timeout=0)
    bound = client.api.inspect_container(web.id)["NetworkSettings"]["Ports"]["8080/tcp"]
    assert web.published(8080)[1] == int(next(b for b in bound if "." in b["HostIp"])["HostPort"])


def test_what_cannot_be_done_is_refused_before_docker_sees_it(dockernet):
    lan = dockernet.network("lan")
    other = dockernet.network("other")
    c = dockernet.container("c", [lan])
    with pytest.raises(ValueError, match="already on network"):
        dockernet.connect(c, lan)
    with pytest.raises(ValueError, match="is not on network"):
        dockernet.disconnect(c, other)
    with pytest.raises(ValueError, match="timeout must be whole seconds"):
        dockernet.restart(c, timeout=-1)
    with pytest.raises(TypeError, match="the network must be a Network"):
        dockernet.connect(c, "other")
    with pytest.raises(ValueError, match="alias 'no spaces'"):
        dockernet.connect(c, other, aliases=["no spaces"])
    with pytest.raises(ValueError, match="already taken by"):
        dockernet.connect(c, other, ip=str(dockernet.container("d", [other]).ip(other)))
    assert c.networks == (lan,)


def test_an_existing_container_is_changed_only_when_allowed(dockernet, client, plain):
    lan = dockernet.network("lan")
    users = plain.network("users")
    app = dockernet.existing_container(plain.container("app", [users]).name)
    with pytest.raises(ValueError, match="allow_existing=True"):
        dockernet.connect(app, lan)
    with pytest.raises(ValueError, match="allow_existing=True"):
        dockernet.restart(app)
    dockernet.connect(app, lan, allow_existing=True)
    assert lan.name in endpoints(client, app)
    assert_reachable(dockernet.container("c", [lan]), app.ip(lan))


def test_docker_refuses_an_alias_on_the_default_bridge(dockernet):
    bridge = dockernet.existing_network("bridge")
    c = dockernet.container("c", [dockernet.network("lan")])
    with pytest.raises(DockernetError, match="docker refused to connect"):
        dockernet.connect(c, bridge, aliases=["any"])
