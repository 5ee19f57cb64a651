"""A container reaching a port published on its own network through an address of the host:
moby's TestAccessPublishedPortFromCtr (integration/networking/port_mapping_linux_test.go), from
a neighbour on the same network and from the publishing container itself. moby dials the
host's address facing outside; here it is the host's end of the upstream's link (an address of
the host on another interface, nothing leaves the machine), and the network's own gateway.
Each verdict beside a plain docker network probed the same way; moby expects both to answer on
every engine (the userland proxy on, each engine's default).
"""

from __future__ import annotations

from tests.engine.verdicts import port_opens


def hairpins(server, neighbour, addresses) -> tuple[bool, ...]:
    """Whether port 80, published to the host, answers through each address: from the
    neighbour, then from the server itself."""
    port = server.published(80)[1]
    return tuple(
        port_opens(src, address, port) for src in (neighbour, server) for address in addresses
    )


def test_access_published_port_from_ctr(dockernet, plain):
    upstream = dockernet.upstream()  # its link gives the host an address outside every bridge
    lan = dockernet.network("lan")
    server = dockernet.container("server", [lan], ports={80: None})
    dockernet.listen(server, 80)
    neighbour = dockernet.container("client", [lan])
    seen = hairpins(server, neighbour, (upstream.host_address, lan.gateway))
    assert seen == (True,) * 4

    users = plain.network("lan")
    theirs = dockernet.existing_container(
        plain.container("server", [users], ports={"80/tcp": None}).name
    )
    dockernet.listen(theirs, 80, allow_existing=True)
    their_neighbour = dockernet.existing_container(plain.container("client", [users]).name)
    assert hairpins(theirs, their_neighbour, (upstream.host_address, users.gateway)) == seen
