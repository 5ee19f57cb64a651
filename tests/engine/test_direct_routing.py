"""A neighbour on the host's LAN, with a route to a container subnet through the host, probing
the containers directly: moby's TestDirectRoutingOpenPorts (integration/networking/
port_mapping_linux_test.go), with the test's upstream as moby's "remote" host.

From Docker 28, a ``nat`` network (the default) drops everything routed to its containers from
outside, ping and published ports included; ``nat-unprotected`` lets everything in; ``routed``
answers ping and lets published ports in only. moby pins these whatever the FORWARD policy.
Before 28, no rule protects a nat network: what gets in is decided by the host's FORWARD
chain, so the verdict on the plugin's network is checked against a plain ``docker network
create`` network beside it, probed the same way.
"""

from __future__ import annotations

import pytest

from pytest_dockernet import assert_reachable, assert_route
from pytest_dockernet.observe import routes
from tests.engine.verdicts import answers_ping, port_opens

# moby's expectations from the remote host: ping, published port, unpublished port.
EXPECTED_SINCE_28 = {
    None: (False, False, False),  # nat, the default
    "nat": (False, False, False),
    "nat-unprotected": (True, True, True),
    "routed": (True, True, False),
}
MODE_SINCE = {None: (20, 10), "nat": (27, 0), "routed": (27, 0), "nat-unprotected": (28, 0)}


def verdicts(upstream, web) -> tuple[bool, bool, bool]:
    """What the upstream gets to: (ping, published 8080, unpublished 9090)."""
    address = web.ip(web.networks[0])
    return (
        answers_ping(upstream, address),
        port_opens(upstream, address, 8080),
        port_opens(upstream, address, 9090),
    )


@pytest.mark.parametrize("mode", [None, "nat", "nat-unprotected", "routed"])
def test_direct_routing_open_ports(dockernet, plain, engine_version, mode):
    if engine_version < MODE_SINCE[mode]:
        pytest.skip(f"gateway_mode={mode!r} needs Docker {MODE_SINCE[mode]}: refused there")
    if engine_version < (28, 0) and mode is not None:
        pytest.skip("the gateway modes' direct-routing rules are Docker 28's")
    net = dockernet.network("n", gateway_mode=mode)
    web = dockernet.container("web", [net], ports={8080: None})
    dockernet.listen(web, 8080)
    dockernet.listen(web, 9090)
    upstream = dockernet.upstream()
    dockernet.add_route(upstream, str(net.subnet), via=upstream.host_address)
    seen = verdicts(upstream, web)
    if engine_version >= (28, 0):
        assert seen == EXPECTED_SINCE_28[mode]
    if mode is None:  # the same from a network plain docker made, the plugin only probing
        users = plain.network("users")
        theirs = dockernet.existing_container(
            plain.container("web", [users], ports={"8080/tcp": None}).name
        )
        dockernet.listen(theirs, 8080, allow_existing=True)
        dockernet.listen(theirs, 9090, allow_existing=True)
        dockernet.add_route(upstream, str(users.subnet), via=upstream.host_address)
        assert verdicts(upstream, theirs) == seen


def test_an_upstream_is_a_probe_source_everywhere(dockernet):
    net = dockernet.network("n", routable=True)
    web = dockernet.container("web", [net])
    upstream = dockernet.upstream()
    dockernet.add_route(upstream, str(net.subnet), via=upstream.host_address)
    walked = dockernet.trace(upstream, web)
    assert walked.request, walked
    assert walked.request[0].interface == "eth0"
    with pytest.raises(TypeError, match="src must be a Container or an Upstream"):
        assert_reachable("internet", web)
    with pytest.raises(ValueError, match="has no resolver"):
        assert_reachable(upstream, "web-by-dns-name")


TRUSTED_SINCE = (28, 2)


def test_trusted_host_interfaces_is_refused_where_docker_would_ignore_it(
    dockernet, client, engine_version
):
    if engine_version >= TRUSTED_SINCE:
        pytest.skip("Docker >= 28.2 has the option")
    upstream = dockernet.upstream()
    with pytest.raises(ValueError, match=r"needs Docker >= 28\.2; this engine is"):
        dockernet.network("n", trusted_host_interfaces=[upstream.host_interface])
    assert dockernet.networks == {}
    assert not client.networks.list(names=[f"dn-{dockernet.identity.run_id}-{dockernet.scope}-n"])


@pytest.mark.parametrize("trusted", [False, True])
def test_direct_remote_access_on_exposed_port(dockernet, plain, engine_version, trusted):
    """moby's TestDirectRemoteAccessOnExposedPort, cases NAT/IPv4 and NAT/IPv4/trusted: a
    remote host reaches a port published on a nat network through the host's address, and
    directly (routed to the container's address) only from a host interface the network
    trusts; the same on a plain docker network with the same option."""
    if engine_version < TRUSTED_SINCE:
        pytest.skip("trusted_host_interfaces is Docker 28.2's: refused before (test above)")
    upstream = dockernet.upstream()
    trust = {"trusted_host_interfaces": [upstream.host_interface]} if trusted else {}
    net = dockernet.network("n", **trust)
    web = dockernet.container("web", [net], ports={8080: None})
    dockernet.listen(web, 8080)
    dockernet.add_route(upstream, str(net.subnet), via=upstream.host_address)
    through_host = port_opens(upstream, upstream.host_address, web.published(8080)[1])
    direct = port_opens(upstream, web.ip(net), 8080)
    assert (through_host, direct) == (True, trusted)
    option = "com.docker.network.bridge.trusted_host_interfaces"
    users = plain.network("users", options={option: upstream.host_interface} if trusted else {})
    theirs = dockernet.existing_container(
        plain.container("web", [users], ports={"8080/tcp": None}).name
    )
    dockernet.listen(theirs, 8080, allow_existing=True)
    dockernet.add_route(upstream, str(users.subnet), via=upstream.host_address)
    assert port_opens(upstream, theirs.ip(theirs.networks[0]), 8080) == direct


def test_routed_non_gateway(dockernet, plain, engine_version):
    """moby's TestRoutedNonGateway: a server on a dual-stack nat network (its gateway) and a
    dual-stack routed one, a neighbour routed to both subnets. Docker 28.5 lets the published
    port in through the host's address only, over IPv4 and IPv6: on the routed network, where
    the server's gateway is not, it writes no ACCEPT for the port, and the DOCKER chain's
    ``! -i BRIDGE -o BRIDGE -j DROP`` drops it (the plugin's failure names that rule). moby's
    current test (added June 2025, moby#50225) expects the routed address open: a change an
    upgrade past 28.5 brings. The same for a plain docker server."""
    if engine_version < (28, 0):
        pytest.skip("moby pins routed mode's direct access from Docker 28")

    def reach(server, nat, routed) -> tuple[bool, ...]:
        return (
            port_opens(upstream, upstream.host_address, server.published(80)[1]),
            port_opens(upstream, upstream.host_address6, server.published(80, family=6)[1]),
            port_opens(upstream, server.ip(nat), 80),
            port_opens(upstream, server.ip6(nat), 80),
            port_opens(upstream, server.ip(routed), 80),
            port_opens(upstream, server.ip6(routed), 80),
        )

    nat = dockernet.network("nat", ipv6=True)
    routed = dockernet.network("routed", ipv6=True, gateway_mode="routed")
    upstream = dockernet.upstream(routes=[nat, routed])
    assert upstream.host_address6 is not None
    server = dockernet.container("server", [nat, routed], ports={80: None})
    dockernet.listen(server, 80)
    # Docker takes the default route from the nat network, as moby's gateway priority asks
    assert_route(server, "default", via=nat.gateway)
    seen = reach(server, nat, routed)
    modes = (
        "com.docker.network.bridge.gateway_mode_ipv4",
        "com.docker.network.bridge.gateway_mode_ipv6",
    )
    their_nat = plain.network("nat", ipv6=True)
    their_routed = plain.network("routed", ipv6=True, options=dict.fromkeys(modes, "routed"))
    theirs = dockernet.existing_container(
        plain.container("server", [their_nat, their_routed], ports={"80/tcp": None}).name
    )
    dockernet.listen(theirs, 80, allow_existing=True)
    for net in (their_nat, their_routed):
        dockernet.add_route(upstream, str(net.subnet), via=upstream.host_address)
        dockernet.add_route(upstream, str(net.subnet6), via=upstream.host_address6)
    nets = {net.subnet: net for net in theirs.networks}
    assert reach(theirs, nets[their_nat.subnet], nets[their_routed.subnet]) == seen
    # (published via the host v4, v6; nat address v4, v6; routed address v4, v6)
    assert seen == (True, True, False, False, False, False)


def test_an_upstream_made_with_routes_goes_through_the_host(dockernet):
    lan = dockernet.network("lan", ipv6=True)
    v4only = dockernet.network("v4only")
    neighbour = dockernet.upstream("neighbour", routes=[lan, str(v4only.subnet)])
    assert lan.subnet6 is not None
    seen = {(r.dst, r.gateway) for r in routes.routes(neighbour.pid)}
    assert {(lan.subnet, neighbour.host_address), (v4only.subnet, neighbour.host_address)} <= seen
    assert routes.Route(lan.subnet6, neighbour.host_address6, "eth0") in routes.routes(
        neighbour.pid, family=6
    )
    for bad, error, match in [
        (str(lan.subnet), TypeError, r"routes must be a list .* got '10\."),
        (["10.1.2.3/8"], ValueError, "10.1.2.3/8"),
    ]:
        with pytest.raises(error, match=match):
            dockernet.upstream("bad", routes=bad)
        assert "bad" not in dockernet.upstreams
