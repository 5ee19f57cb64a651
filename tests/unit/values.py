"""Real ``model`` values for tests that need no engine: networks, containers and pings.

A ``Registry`` holds an engine client only for the calls it makes to the engine; these values
are built with none (``client=None``), so any code path that did reach for the engine would
fail loudly instead of being answered by a stand-in.
"""

from __future__ import annotations

import ipaddress

from pytest_dockernet.model import Container, Network, Registry, Started
from pytest_dockernet.observe.ping import PingResult, Reply


def registry() -> Registry:
    return Registry(client=None)  # type: ignore[arg-type]  # no engine: see the module docstring


def network(reg: Registry, alias: str, subnet: str) -> Network:
    net = ipaddress.IPv4Network(subnet)
    net_id = alias.encode().hex().ljust(12, "0")[:12]  # hex, like Docker's ids
    found = Network(
        alias=alias,
        name=f"dn-c0ffee12-{alias}",
        id=net_id,
        subnet=net,
        gateway=net.network_address + 1,
        bridge=f"br-{net_id}",
        internal=False,
        masquerade=True,
        registry=reg,
    )
    reg.networks[alias] = found
    return found


def container(reg: Registry, alias: str, addresses: dict[Network, str]) -> Container:
    found = Container(
        alias=alias,
        name=f"dn-c0ffee12-{alias}",
        addresses={n: ipaddress.IPv4Address(a) for n, a in addresses.items()},
        registry=reg,
        state=Started(f"{alias}-id", 0),
    )
    reg.containers[alias] = found
    return found


def answered(
    src: Container, dst: Container, sent: int = 1, received: int | None = None
) -> PingResult:
    """A ping from ``src`` to ``dst`` (on their first shared network) that got ``received``
    of ``sent`` replies (all of them by default)."""
    to = dst.ip(src.shared_networks(dst)[0])
    got = sent if received is None else received
    replies = tuple(Reply(seq, to, 64, 0.05) for seq in range(1, got + 1))
    return PingResult(source=src.alias, destination=to, sent=sent, replies=replies)


def unanswered(src: Container, dst: Container, timeout: float = 0.3) -> PingResult:
    """A ping from ``src`` to ``dst`` (at its first address) that got no reply."""
    return PingResult(
        source=src.alias,
        destination=dst.ip(dst.networks[0]),
        sent=1,
        replies=(),
        errors=(f"no reply within {timeout:g} s",),
    )
