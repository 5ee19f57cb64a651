"""A Docker Compose stack, asserted as a CI gate would: the plugin brings the project up from
its file (examples/compose/compose.yaml), the test checks what Docker and the kernel made of
it, and the project is taken down with the test. With only ``project=``, the same checks run
against a stack that is already up, which is left running; the one exception is
``assert_not_resolvable`` from its services, which the plugin refuses when their DNS could
forward the name off this machine (give them ``dns: 127.0.0.1``, or ask from a probe).
"""

from pathlib import Path

from pytest_dockernet import (
    assert_bridge_members,
    assert_masquerade,
    assert_no_masquerade,
    assert_not_resolvable,
    assert_port_closed,
    assert_port_open,
    assert_published,
    assert_resolves,
    assert_unreachable,
)

STACK = Path(__file__).parent / "compose" / "compose.yaml"


def test_compose_stack(dockernet, image):
    stack = dockernet.compose(STACK, env={"IMAGE": image or dockernet.image})
    web, api, client = (stack.services[name] for name in ("web", "api", "client"))
    front, back = stack.networks["front"], stack.networks["back"]

    # Bridge membership: exactly the services the file puts on each network.
    assert_bridge_members(front, [web, client], exact=True)
    assert_bridge_members(back, [web, api], exact=True)

    # Isolation: the client reaches web, never the internal api.
    assert_unreachable(client, api)

    # Ports: the services are listeners opened from the host in each namespace.
    dockernet.listen(web, 80)
    orders = dockernet.listen(api, 5432)
    assert_port_open(client, web, 80, within=5)
    assert_port_open(web, api, 5432, within=5)
    assert orders.peers == (web.ip(back),)  # no NAT inside a bridge
    assert_port_closed(client, api.ip(back), 5432)
    assert_published(web, 80)  # 127.0.0.1 only: not reachable from an upstream

    # NAT: the internal network has no way out, so no MASQUERADE; the front network has one.
    assert_no_masquerade(back)
    assert_masquerade(front)

    # DNS: service names and the file's aliases, on the shared network only.
    assert_resolves(client, "web", to=web)
    assert_resolves(web, "orders", to=api)
    assert_not_resolvable(client, "api")
