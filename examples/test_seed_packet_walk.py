"""The seed's packet walk and NAT check: what tcpdump showed, as assertions.

The memo ran tcpdump on the five interfaces between container1 and container2 while pinging,
and watched a packet leave the host with the host's address after MASQUERADE. Here the capture
runs from the host, and "the outside world" is an upstream host of the test's own.
"""

from pytest_dockernet import assert_no_snat, assert_path, assert_snat, host_veth


def test_tcpdump_walk(dockernet, image):
    net = dockernet.network("sample")
    c1 = dockernet.container("container1", networks=[net], image=image)
    c2 = dockernet.container("container2", networks=[net], image=image)

    walk = dockernet.trace(c1, c2)  # tcpdump -i on all five interfaces; ping -c1 container2
    veth1, veth2 = host_veth(c1, net), host_veth(c2, net)  # brctl show: the bridge's ports
    five = [(c1, "eth0"), ("host", veth1), ("host", net.bridge), ("host", veth2), (c2, "eth0")]
    assert [(h.where, h.interface) for h in walk.request] == five  # eth0 → veth → br → veth → eth0
    assert [(h.where, h.interface) for h in walk.reply] == five[::-1]  # the same way back
    assert_path(c1, c2)  # the same, as one assertion


def test_nat_seen_from_upstream(dockernet, image):
    internet = dockernet.upstream("internet", image=image)  # stands for example.org
    net = dockernet.network("sample")
    c1 = dockernet.container("container1", networks=[net], image=image)
    assert_snat(c1, internet)  # it arrives from the host's address: MASQUERADE acted

    quiet = dockernet.network("quiet", masquerade=False)
    c2 = dockernet.container("container2", networks=[quiet], image=image)
    assert_no_snat(c2, internet)  # no MASQUERADE: it arrives from the container's own address
