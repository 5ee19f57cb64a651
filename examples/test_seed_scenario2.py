"""Seed scenario 2: two bridges joined by a router container, with static routes."""

from pytest_dockernet import assert_reachable, assert_route, assert_unreachable


def test_routing_between_bridges(dockernet, image):
    # routable=True: Docker >= 28 drops a packet for a container that reaches its bridge from
    # another bridge (raw PREROUTING `-d IP ! -i BRIDGE -j DROP`). On a host where bridged
    # frames pass the firewall (net.bridge.bridge-nf-call-iptables=1: br_netfilter loaded) that
    # includes the router's forwards, so the seed's scenario fails with Docker's defaults there;
    # routable=True trusts the two bridges of this test, and only those. On Docker < 28, or a
    # host with the setting at 0 (a typical Docker 28 host), it works without it too.
    a = dockernet.network("sample1", subnet="10.231.1.0/24", routable=True)
    b = dockernet.network("sample2", subnet="10.231.2.0/24", routable=True)
    r = dockernet.router("router", networks={a: "10.231.1.3", b: "10.231.2.3"}, image=image)
    h1 = dockernet.container("h1", networks={a: "10.231.1.4"}, image=image)
    h2 = dockernet.container("h2", networks={b: "10.231.2.2"}, image=image)

    assert_unreachable(h1, h2)  # no route yet: Docker isolates bridges
    dockernet.add_route(h1, "10.231.2.0/24", via=r)  # ip route add … via 10.231.1.3
    dockernet.add_route(h2, "10.231.1.0/24", via="10.231.2.3")
    assert_route(h1, "10.231.2.0/24", via="10.231.1.3", dev="eth0")
    assert_route(h2, "10.231.1.0/24", via=r)
    assert_reachable(h1, h2, count=3, reply_ttl=63)  # ping -c 3: ttl=63, one hop
    assert_reachable(h1, r, reply_ttl=64)  # the router itself: no hop
