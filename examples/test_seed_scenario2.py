"""Seed scenario 2: two bridges joined by a router container, with static routes."""

from pytest_dockernet import assert_reachable, assert_route, assert_unreachable


def test_routing_between_bridges(dockernet, image):
    a = dockernet.network("sample1", subnet="10.231.1.0/24")
    b = dockernet.network("sample2", subnet="10.231.2.0/24")
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
