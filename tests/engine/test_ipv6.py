"""IPv6 and dual-stack networks against the real engine: what the plugin creates and reads, and
the checks whose outcome no engine setting changes (one network, the host's own routes, names).

What differs by engine (isolation between networks, NAT66, routers, published ports over IPv6)
is pinned per engine in ``test_faithful_ipv6.py``, against plain docker.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pytest_dockernet import (
    assert_host_route,
    assert_not_resolvable,
    assert_path,
    assert_port_closed,
    assert_port_open,
    assert_reachability,
    assert_reachable,
    assert_resolves,
    assert_route,
)
from pytest_dockernet.engine import netns
from pytest_dockernet.observe import links, routes


def test_a_dual_stack_network_takes_a_free_64_of_the_ipv6_pool(dockernet, client):
    net = dockernet.network("six", ipv6=True)
    assert net.subnet6 is not None and net.subnet6.prefixlen == 64
    assert net.subnet6.subnet_of(dockernet.pool6)
    assert net.gateway6 == net.subnet6.network_address + 1
    attrs = client.api.inspect_network(net.id)
    assert attrs["EnableIPv6"] is True
    assert {c["Subnet"] for c in attrs["IPAM"]["Config"]} == {str(net.subnet), str(net.subnet6)}
    bridge = links.by_name(links.links(None), net.bridge)
    assert bridge is not None
    assert ipaddress.IPv6Interface(f"{net.gateway6}/64") in bridge.addresses
    assert_host_route(net.subnet6, dev=net.bridge)
    other = dockernet.network("six-too", ipv6=True)
    assert other.subnet6 is not None and not other.subnet6.overlaps(net.subnet6)


def test_a_network_without_ipv6_has_none(dockernet, client):
    net = dockernet.network("four")
    assert (net.subnet6, net.gateway6) == (None, None)
    assert not client.api.inspect_network(net.id)["EnableIPv6"]


def test_containers_mirror_their_ipv4_host_part_or_take_the_static_pair(dockernet, client):
    net = dockernet.network(
        "fixed6",
        subnet="10.231.8.0/24",
        subnet6="fd64:6e65:7400:ff08::/64",
        gateway6="fd64:6e65:7400:ff08::fe",
    )
    auto = dockernet.container("auto", [net])
    pinned = dockernet.container("pinned", {net: ("10.231.8.9", "fd64:6e65:7400:ff08::99")})
    only6 = dockernet.container("only6", {net: "fd64:6e65:7400:ff08::77"})
    assert auto.ip(net) == ipaddress.IPv4Address("10.231.8.2")
    assert auto.ip6(net) == ipaddress.IPv6Address("fd64:6e65:7400:ff08::2")
    assert pinned.ip6(net) == ipaddress.IPv6Address("fd64:6e65:7400:ff08::99")
    assert only6.ip6(net) == ipaddress.IPv6Address("fd64:6e65:7400:ff08::77")
    for c in (auto, pinned, only6):
        seen = client.api.inspect_container(c.id)["NetworkSettings"]["Networks"][net.name]
        assert ipaddress.IPv6Address(seen["GlobalIPv6Address"]) == c.ip6(net)
        assert ipaddress.IPv4Address(seen["IPAddress"]) == c.ip(net)
    assert net.gateway6 == ipaddress.IPv6Address("fd64:6e65:7400:ff08::fe")
    assert_route(auto, "default", via=net.gateway6, family=6)
    assert_route(auto, net.subnet6, dev="eth0")


def test_one_dual_stack_network_answers_over_both_families(dockernet):
    net = dockernet.network("lan6", ipv6=True)
    hosts = [dockernet.container(f"h{i}", [net]) for i in range(3)]
    assert_reachable(hosts[0], hosts[1], family=6, reply_ttl=64, count=2)
    assert_reachable(hosts[0], hosts[1].ip6(net))  # an IPv6 address probes over IPv6 itself
    assert_reachability(hosts, family=6)
    assert_reachability(hosts)
    assert_path(hosts[0], hosts[2], family=6)
    walked = dockernet.trace(hosts[0], hosts[2], family=6)
    assert walked.address == hosts[2].ip6(net)
    assert walked.reply and walked.reply[-1].ttl == 64  # the hop limit, as the reply arrived


def test_names_resolve_to_ipv6_addresses_where_the_container_has_one(dockernet):
    four = dockernet.network("four")
    six = dockernet.network("six", ipv6=True)
    a = dockernet.container("a", [four, six])
    b = dockernet.container("b", [four])
    c = dockernet.container("c", [six])
    assert_resolves(a, "c", to=c, family=6)
    assert_resolves(a, "c", to=c.ip6(six))  # an IPv6 address asks for AAAA by itself
    assert_resolves(a, "b", to=b)
    assert_not_resolvable(a, "b", family=6)  # on no network with IPv6: no AAAA record
    with pytest.raises(AssertionError, match="has no IPv6 address \\(AAAA\\) in container 'a'"):
        assert_resolves(a, "b", family=6)


def test_a_port_over_ipv6_opens_and_the_listener_sees_the_ipv6_peer(dockernet):
    net = dockernet.network("web6", ipv6=True)
    web = dockernet.container("web", [net])
    client = dockernet.container("client", [net])
    served = dockernet.listen(web, 8080)
    opened = assert_port_open(client, web, 8080, family=6)
    assert opened.destination == web.ip6(net)
    assert opened.answer.startswith(b"pytest-dockernet web:8080/tcp")
    assert_port_open(client, web, 8080)  # the same listener serves IPv4
    assert served.peers == (client.ip6(net), client.ip(net))
    closed = assert_port_closed(client, web, 8081, family=6)
    assert closed is not None and closed.outcome == "refused"
    assert_port_closed(client, web, 53, proto="udp", family=6)  # ICMPv6 port unreachable


def test_the_upstream_has_an_ipv6_link_of_the_pool(dockernet):
    internet = dockernet.upstream("internet")
    assert internet.subnet6 is not None and internet.subnet6.subnet_of(dockernet.pool6)
    assert internet.address6 == internet.subnet6.network_address + 2
    assert internet.host_address6 == internet.subnet6.network_address + 1
    assert_host_route(internet.subnet6, dev=internet.host_interface)
    inside = {a.ip for link in links.links(internet.pid) for a in link.addresses}
    assert internet.address6 in inside


def test_an_upstream_takes_ipv6_routes_via_the_hosts_ipv6_address(dockernet):
    lan = dockernet.network("lan", ipv6=True)
    internet = dockernet.upstream("internet")
    dockernet.add_route(internet, str(lan.subnet6), via=internet.host_address6)
    assert lan.subnet6 is not None
    assert routes.Route(lan.subnet6, internet.host_address6, "eth0") in routes.routes(
        internet.pid, family=6
    )
    with pytest.raises(ValueError, match="an IPv4 destination needs an IPv4 gateway"):
        dockernet.add_route(internet, str(lan.subnet), via=internet.host_address6)
    with pytest.raises(ValueError, match="use its host_address6"):
        dockernet.add_route(internet, str(lan.subnet6), via=lan.gateway6)


def test_ipv6_routes_are_added_from_the_host(dockernet):
    a = dockernet.network("a6", ipv6=True)
    b = dockernet.network("b6", ipv6=True)
    router = dockernet.router("r", [a, b])
    h1 = dockernet.container("h1", [a], routes={str(b.subnet6): router})
    assert b.subnet6 is not None
    assert_route(h1, b.subnet6, via=router.ip6(a))
    assert routes.Route(b.subnet6, router.ip6(a), "eth0") in routes.routes(h1.pid, family=6)
    with netns.inside(router.pid):  # /proc/sys/net shows the reader's own namespace
        assert Path("/proc/sys/net/ipv6/conf/all/forwarding").read_text().strip() == "1"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda dn: dn.network("x", gateway6="fd00::1"), "gateway6=fd00::1 needs subnet6="),
        (lambda dn: dn.network("x", subnet6="fd00::1/64"), "is not an IPv6 network"),
        (lambda dn: dn.network("x", subnet6="10.0.0.0/24"), "is not an IPv6 network"),
        (
            lambda dn: dn.network("x", subnet6="fd00:1::/64", gateway6="fd00:2::1"),
            "outside the subnet",
        ),
        (
            lambda dn: dn.container("c", {dn.network("four"): "fd00::5"}),
            "has no IPv6: create it with ipv6=True",
        ),
    ],
)
def test_bad_ipv6_input_is_refused_and_leaves_nothing(dockernet, client, call, message):
    with pytest.raises(ValueError, match=message):
        call(dockernet)
    assert "x" not in dockernet.networks and "c" not in dockernet.registry.containers


def test_a_subnet6_held_by_another_network_names_its_holder(dockernet):
    first = dockernet.network("first", ipv6=True)
    with pytest.raises(ValueError, match=f"overlaps {first.subnet6} of Docker network"):
        dockernet.network("second", subnet6=str(first.subnet6))


def test_family_is_4_or_6_and_agrees_with_an_address(dockernet):
    net = dockernet.network("mixed", ipv6=True)
    a = dockernet.container("a", [net])
    b = dockernet.container("b", [net])
    with pytest.raises(ValueError, match="family must be 4 or 6, got 5"):
        assert_reachable(a, b, family=5)
    with pytest.raises(ValueError, match="is an IPv4 address, and family=6 was asked"):
        assert_reachable(a, b.ip(net), family=6)
    four = dockernet.network("four")
    c = dockernet.container("c", [four])
    with pytest.raises(ValueError, match="has no IPv6 address: .* create one with ipv6=True"):
        assert_reachable(a, c, family=6)
