"""Seed scenario 1: one user-defined bridge and two containers, each hand check one line.

The memo ran `ip a`, `route -ne`, `brctl show`, `iptables -t nat -nL` and `ping` by hand;
here each is an assertion on a network the test builds and removes.
"""

from pytest_dockernet import (
    assert_bridge_members,
    assert_host_route,
    assert_masquerade,
    assert_reachable,
    assert_route,
)


def test_one_bridge_two_containers(dockernet, image):
    net = dockernet.network("sample")  # docker network create sample
    c1 = dockernet.container("container1", networks=[net], image=image)
    c2 = dockernet.container("container2", networks=[net], image=image)

    assert net.bridge == f"br-{net.id[:12]}"  # brctl show: br-<id>
    assert_host_route(net.subnet, dev=net.bridge)  # route -ne on the host
    assert_bridge_members(net, [c1, c2], exact=True)  # brctl show br-…: both veths
    assert_route(c1, "default", via=net.gateway)  # route -ne in container1
    assert_route(c1, net.subnet, dev="eth0")  #   and its link route
    assert_route(c2, "default", via=net.gateway)  # route -ne in container2
    assert_reachable(c1, c2)  # ping from container1
    assert_reachable(c1, "container2")  # ping container2, by name
    assert_masquerade(net)  # iptables -t nat: MASQUERADE
