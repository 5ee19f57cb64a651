"""The seed's two scenarios on dual-stack networks: every hand check over IPv4 and IPv6.

What Docker's firewall decides over IPv6 depends on the engine (the daemon's ``ip6tables``: off
before Docker 27, on from 27): the checks here hold on every engine. Isolation between networks
and NAT66 are pinned per engine in ``tests/engine/test_faithful_ipv6.py``.
"""

from pytest_dockernet import (
    assert_bridge_members,
    assert_host_route,
    assert_reachable,
    assert_resolves,
    assert_route,
)


def test_one_dual_stack_bridge_two_containers(dockernet, image):
    net = dockernet.network("sample", ipv6=True)  # docker network create --ipv6 sample
    c1 = dockernet.container("container1", networks=[net], image=image)
    c2 = dockernet.container("container2", networks=[net], image=image)

    assert_host_route(net.subnet, dev=net.bridge)  # route -ne on the host
    assert_host_route(net.subnet6, dev=net.bridge)  # ip -6 route on the host
    assert_bridge_members(net, [c1, c2], exact=True)  # brctl show br-…: both veths
    assert_route(c1, "default", via=net.gateway6, family=6)  # ip -6 route in container1
    assert_route(c1, net.subnet6, dev="eth0")  #   and its link route
    assert_reachable(c1, c2, family=6, reply_ttl=64)  # ping -6 from container1
    assert_reachable(c1, c2.ip6(net))  # ping container2's IPv6 address
    assert_resolves(c1, "container2", to=c2, family=6)  # its AAAA record


def test_routing_between_dual_stack_bridges(dockernet, image):
    # routable=True, as in scenario 2: Docker >= 28 drops a router's forwards over IPv6 too
    # where bridged frames pass ip6tables (net.bridge.bridge-nf-call-ip6tables=1)
    a = dockernet.network(
        "sample1", subnet="10.231.1.0/24", subnet6="fd64:6e65:7400:ff01::/64", routable=True
    )
    b = dockernet.network(
        "sample2", subnet="10.231.2.0/24", subnet6="fd64:6e65:7400:ff02::/64", routable=True
    )
    r = dockernet.router(
        "router",
        networks={
            a: ("10.231.1.3", "fd64:6e65:7400:ff01::3"),
            b: ("10.231.2.3", "fd64:6e65:7400:ff02::3"),
        },
        image=image,
    )
    h1 = dockernet.container("h1", networks={a: "10.231.1.4"}, image=image)
    h2 = dockernet.container("h2", networks={b: "10.231.2.2"}, image=image)

    dockernet.add_route(h1, "10.231.2.0/24", via=r)  # ip route add … via 10.231.1.3
    dockernet.add_route(h1, "fd64:6e65:7400:ff02::/64", via=r)  # ip -6 route add … via ::3
    dockernet.add_route(h2, "10.231.1.0/24", via="10.231.2.3")
    dockernet.add_route(h2, "fd64:6e65:7400:ff01::/64", via="fd64:6e65:7400:ff02::3")
    assert_route(h1, "fd64:6e65:7400:ff02::/64", via="fd64:6e65:7400:ff01::3", dev="eth0")
    assert h1.ip6(a) == a.subnet6.network_address + 4  # the IPv4 host part, mirrored
    assert_reachable(h1, h2, count=3, reply_ttl=63)  # ping -c 3: ttl=63, one hop
    assert_reachable(h1, h2, count=3, reply_ttl=63, family=6)  # ping -6: hop limit 63
