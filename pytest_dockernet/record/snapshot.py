"""What a test held, as plain data the report can carry between processes (JSON under
pytest-xdist): networks, containers and routers with their addresses, upstreams, probes; and
its outline, the same without what changes from run to run, which a record keeps so that two
records can be drawn side by side (``dockernet-diff --html``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from ..model import Registry
from .observations import Probe


def topology(registries: Sequence[Registry]) -> dict[str, Any]:
    """The networks, containers and upstreams of a test's DockerNets (its own, and the
    session's when it used that), with their addresses.

    Example::

        topology([dockernet.registry])["networks"][0]
        # {'alias': 'a', 'name': 'dn-1a2b3c4d-a', 'subnet': '10.199.7.0/24', ...}
    """
    networks = [n for r in registries for n in r.networks.values()]
    upstreams = [u for r in registries for u in r.upstreams.values()]
    boxes = {id(u.container) for u in upstreams}
    return {
        "networks": [
            {
                "alias": n.alias,
                "name": n.name,
                "subnet": None if n.subnet is None else str(n.subnet),
                "subnet6": None if n.subnet6 is None else str(n.subnet6),
                "bridge": n.bridge,
                "internal": n.internal,
                "masquerade": n.masquerade,
                "existing": n.existing,
            }
            for n in networks
        ],
        "containers": [
            {
                "alias": c.alias,
                "service": c.service,
                "router": c.is_router,
                "existing": c.existing,
                "addresses": {
                    n.alias: [
                        str(ip)
                        for ip in (c.addresses.get(n), c.addresses6.get(n))
                        if ip is not None
                    ]
                    for n in c.networks
                },
            }
            for r in registries
            for c in r.containers.values()
            if id(c) not in boxes
        ],
        "upstreams": [
            {
                "name": u.name,
                "address": str(u.address),
                "address6": None if u.address6 is None else str(u.address6),
                "host_address": str(u.host_address),
                "host_interface": u.host_interface,
            }
            for u in upstreams
        ],
    }


def outline(held: Mapping[str, Any]) -> dict[str, Any]:
    """A :func:`topology` without run-specific values (subnets, bridges, Docker names,
    addresses, the host's link names): what a record keeps of it, stable across runs and
    engines. Which families a network and a membership have stays.

    Example::

        outline(topology([dockernet.registry]))["networks"][0]
        # {'alias': 'a', 'name': None, 'subnet': None, 'subnet6': None, 'bridge': None,
        #  'internal': False, 'masquerade': True, 'existing': False, 'families': ['IPv4']}
    """
    return {
        "networks": [
            {
                **n,
                "name": None,
                "subnet": None,
                "subnet6": None,
                "bridge": None,
                "families": [f for f, k in (("IPv4", "subnet"), ("IPv6", "subnet6")) if n[k]],
            }
            for n in held["networks"]
        ],
        "containers": [
            {**c, "addresses": {net: [] for net in c["addresses"]}} for c in held["containers"]
        ],
        "upstreams": [
            {**u, "address": None, "address6": None, "host_address": None, "host_interface": None}
            for u in held["upstreams"]
        ],
    }


def probes(found: list[Probe]) -> list[dict[str, Any]]:
    """Each probe once, as plain data: a retried assertion keeps its last attempt.

    Example::

        probes([Probe("h1", "h2", "assert_reachable", False, True)] * 2)  # one dict
    """
    last: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for probe in found:
        drawn = {**dataclasses.asdict(probe), "failed": probe.failed}
        last.pop(same_probe(drawn), None)  # keep the order of the last attempts
        last[same_probe(drawn)] = drawn
    return list(last.values())


def same_probe(probe: Mapping[str, Any]) -> tuple[str, str, str, str]:
    """What makes two probes (as plain data) the same one: its ends, its kind, and its port
    (what comes before a colon in its detail), not what was seen.

    Example::

        same_probe({"source": "h1", "target": "web", "kind": "assert_port_open",
                    "detail": "80/tcp: open", ...})  # ('h1', 'web', 'assert_port_open', '80/tcp')
    """
    return (probe["source"], probe["target"], probe["kind"], probe["detail"].partition(":")[0])
