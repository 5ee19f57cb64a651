"""Between two networks of one host, against moby's promises (integration/networking/
bridge_linux_test.go): TestAccessToPublishedPort (a container reaches another network's
published port through the host's address), TestInterNetworkDirectRouting (a container
addresses another network's container directly, moby#49509) and TestBridgeINCRouted (between
a nat and a routed network, both ways, over IPv4 and IPv6). Each verdict on the plugin's
networks is checked against plain ``docker network create`` networks beside them, probed the
same way, and pinned per engine where moby pins it.
"""

from __future__ import annotations

import pytest

from tests.engine.verdicts import answers_ping, port_opens

SINCE_28 = {  # (published, unpublished) from another network, on Docker 28.5
    "nat": (False, False),  # blocked by the raw-table direct-routing rules
    "routed": (True, False),  # unpublished ports are filtered one by one
    # moby's HEAD expects (True, True); 28.5 still drops it in DOCKER-ISOLATION-STAGE-2, as
    # the plain reproduction below shows: a change an upgrade past 28.5 would bring
    "nat-unprotected": (False, False),
}
GATEWAY_MODE = "com.docker.network.bridge.gateway_mode_ipv4"
GATEWAY_MODE6 = "com.docker.network.bridge.gateway_mode_ipv6"
INC_ROUTED = {  # moby's pins, whatever the FORWARD policy: (ping, port 80 published, port 81)
    ("nat", "routed"): (True, True, False),  # routed mode opens what is published, and ping
    ("routed", "nat"): (False, False, False),  # a nat network takes nothing addressed to it
}


def serve(dockernet, container, *ports: int) -> None:
    for port in ports:
        dockernet.listen(container, port, allow_existing=container.existing)


def test_access_to_published_port(dockernet, plain, engine_version):
    server_net = dockernet.network("server")
    client_net = dockernet.network("client")
    server = dockernet.container("server", [server_net], ports={80: None})
    serve(dockernet, server, 80)
    client = dockernet.container("client", [client_net])
    host = dockernet.existing_network("bridge").gateway  # moby's "host-gateway" address
    port = server.published(80)[1]
    seen = port_opens(client, host, port)

    theirs_server = dockernet.existing_container(
        plain.container("server", [plain.network("server")], ports={"80/tcp": None}).name
    )
    serve(dockernet, theirs_server, 80)
    theirs_client = dockernet.existing_container(
        plain.container("client", [plain.network("client")]).name
    )
    assert port_opens(theirs_client, host, theirs_server.published(80)[1]) == seen
    if engine_version >= (28, 0):
        assert seen  # moby: "404 Not Found", the server answered


@pytest.mark.parametrize("mode", [None, "nat", "routed", "nat-unprotected"])
def test_inter_network_direct_routing(dockernet, plain, engine_version, mode):
    if mode is not None and engine_version < (28, 0):
        pytest.skip("moby pins the gateway modes' direct routing from Docker 28")
    server_net = dockernet.network("server", gateway_mode=mode)
    server = dockernet.container("server", [server_net], ports={80: None})
    serve(dockernet, server, 80, 81)
    client = dockernet.container("client", [dockernet.network("client")])
    seen = (port_opens(client, server, 80), port_opens(client, server, 81))
    if engine_version >= (28, 0):
        assert seen == SINCE_28[mode or "nat"]
    options = {GATEWAY_MODE: mode} if mode else None
    theirs = dockernet.existing_container(
        plain.container(
            "server", [plain.network("server", options=options)], ports={"80/tcp": None}
        ).name
    )
    serve(dockernet, theirs, 80, 81)
    their_client = dockernet.existing_container(
        plain.container("client", [plain.network("client")]).name
    )
    assert (port_opens(their_client, theirs, 80), port_opens(their_client, theirs, 81)) == seen


def inc_verdicts(src, dst) -> tuple[tuple[bool, bool, bool], ...]:
    """(ping, port 80, port 81) from ``src`` to ``dst``'s address on its one network, over
    IPv4 then IPv6."""
    net = dst.networks[0]
    return tuple(
        (answers_ping(src, address), port_opens(src, address, 80), port_opens(src, address, 81))
        for address in (dst.ip(net), dst.ip6(net))
    )


@pytest.mark.parametrize(("src_mode", "dst_mode"), list(INC_ROUTED))
def test_bridge_inc_routed(dockernet, plain, engine_version, src_mode, dst_mode):
    if engine_version < (28, 0):
        pytest.skip("moby pins nat and routed networks side by side from Docker 28")
    made = {}
    for mode in (src_mode, dst_mode):
        net = dockernet.network(mode, gateway_mode=mode, ipv6=True)
        made[mode] = dockernet.container(f"ctr-{mode}", [net], ports={80: None})
        serve(dockernet, made[mode], 80, 81)
    seen = inc_verdicts(made[src_mode], made[dst_mode])
    assert seen == (INC_ROUTED[src_mode, dst_mode],) * 2
    theirs = {}
    for mode in (src_mode, dst_mode):
        users = plain.network(mode, ipv6=True, options={GATEWAY_MODE: mode, GATEWAY_MODE6: mode})
        theirs[mode] = dockernet.existing_container(
            plain.container(f"ctr-{mode}", [users], ports={"80/tcp": None}).name
        )
        serve(dockernet, theirs[mode], 80, 81)
    assert inc_verdicts(theirs[src_mode], theirs[dst_mode]) == seen
