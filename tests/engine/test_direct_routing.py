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

from pytest_dockernet import assert_reachable
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
