"""Networks and containers the plugin did not create, read from Docker into the same values.

The user's own stack (a Compose project, their product's containers) is checked with the same
assertions as a topology the plugin built. What is read here is registered in the DockerNet's
registry but never in its ledger: close() does not remove it, the sweep never sees it (it has
no label of ours), and nothing changes it unless the test opts in (``allow_existing=True``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

import docker
import docker.errors

from .. import addressing
from ..engine.client import bridge_of
from ..model import Container, Network, Registry, Started
from .compose_cli import PROJECT, SERVICE
from .networks import MASQUERADE_OPTION
from .publishing import published_ports, published_ports6


def _pool(data: Mapping[str, Any], kind: type[addressing.N]) -> tuple[addressing.N, str] | None:
    """The network's subnet of ``kind`` (IPv4Network or IPv6Network) in ``inspect_network``'s
    ``data``, with its gateway as Docker wrote it ("" where it omits it); None without one."""
    for pool in (data.get("IPAM") or {}).get("Config") or []:
        try:
            subnet = ipaddress.ip_network(pool.get("Subnet", ""), strict=False)
        except ValueError:
            continue
        if isinstance(subnet, kind):
            return subnet, str(pool.get("Gateway") or "")
    return None


def network_from(
    registry: Registry, data: Mapping[str, Any], alias: str, *, existing: bool
) -> Network:
    """The Network for ``inspect_network``'s ``data``, registered under ``alias``; the one
    already registered when the registry holds this network."""
    for known in registry.networks.values():
        if known.id == data["Id"]:
            return known
    if data.get("Driver") != "bridge":
        raise ValueError(
            f"network {data.get('Name')!r} uses the {data.get('Driver')!r} driver: the "
            "assertions read bridge networks only"
        )
    if alias in registry.networks:
        raise ValueError(
            f"network name {alias!r} already names {registry.networks[alias]} in this test"
        )
    options = data.get("Options") or {}
    # EnableIPv4 is false on an IPv6-only network (Docker >= 28); older engines do not say
    found = _pool(data, ipaddress.IPv4Network) if data.get("EnableIPv4", True) else None
    found6 = _pool(data, ipaddress.IPv6Network) if data.get("EnableIPv6") else None
    if found is None and found6 is None:
        raise ValueError(f"network {data.get('Name')!r} has no subnet: it cannot be read")
    subnet = gateway = None
    if found is not None:
        # Docker omits the gateway on some versions: the subnet's first address is the one used
        subnet = found[0]
        gateway = ipaddress.IPv4Address(found[1]) if found[1] else next(iter(subnet.hosts()))
    subnet6 = gateway6 = None
    if found6 is not None:
        subnet6 = found6[0]
        gateway6 = ipaddress.IPv6Address(found6[1]) if found6[1] else subnet6.network_address + 1
    net = Network(
        alias=alias,
        name=data["Name"],
        id=data["Id"],
        subnet=subnet,
        gateway=gateway,
        bridge=bridge_of(data),
        internal=bool(data.get("Internal")),
        masquerade=options.get(MASQUERADE_OPTION, "true").lower() != "false",
        registry=registry,
        existing=existing,
        subnet6=subnet6,
        gateway6=gateway6,
    )
    registry.networks[alias] = net
    return net


def shared_mode(client: docker.DockerClient, data: Mapping[str, Any]) -> str:
    """The network mode of ``inspect_container``'s ``data`` when the container has no network
    namespace of its own, as its user wrote it: ``host``, Compose's ``service:<name>`` when
    it shares a service of its own project, else ``container:<name>``; empty otherwise.

    E.g. ``shared_mode(client, inspected)`` is ``"service:web"`` for a Compose service with
    ``network_mode: service:web`` (Docker says ``container:<id of web-1>``).
    """
    mode = str((data.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode == "host":
        return mode
    kind, _, target = mode.partition(":")
    if kind != "container":
        return ""  # its own namespace: on bridges, or none ("none")
    try:
        shared = client.api.inspect_container(target)
    except docker.errors.NotFound:
        return mode  # gone: its id is all there is to name it by
    ours = data["Config"].get("Labels") or {}
    theirs = shared["Config"].get("Labels") or {}
    if ours.get(PROJECT) and theirs.get(PROJECT) == ours.get(PROJECT) and SERVICE in theirs:
        return f"service:{theirs[SERVICE]}"
    return f"container:{shared['Name'].lstrip('/')}"


def container_from(
    registry: Registry, data: Mapping[str, Any], alias: str, *, existing: bool
) -> Container:
    """The Container for ``inspect_container``'s ``data``, with each bridge network it is on
    registered too (under Docker's name, unless already known); the one already registered
    when the registry holds this container. One without a namespace of its own (network mode
    ``host``, ``container:...``) is read too, its ``network_mode`` set: it refuses the checks
    that would enter it."""
    for known in registry.containers.values():
        if known.name == data["Name"].lstrip("/"):  # names are unique on the engine
            return known
    name = data["Name"].lstrip("/")
    if not data["State"]["Running"]:
        raise ValueError(
            f"container {name!r} is {data['State']['Status']}, not running: start it first"
        )
    taken = registry.name_taken(alias)
    if taken is not None:
        raise ValueError(f"{taken} {alias!r} already exists in this test")
    client = registry.client
    addresses: dict[Network, ipaddress.IPv4Address] = {}
    addresses6: dict[Network, ipaddress.IPv6Address] = {}
    on: list[Network] = []
    for attached in (data["NetworkSettings"].get("Networks") or {}).values():
        try:
            net_data = client.api.inspect_network(attached["NetworkID"])
        except docker.errors.NotFound:
            continue  # removed while we read
        ip, ip6 = attached.get("IPAddress"), attached.get("GlobalIPv6Address")
        if net_data.get("Driver") != "bridge" or not (ip or ip6):
            continue  # macvlan, an attachment without address: not read by the assertions
        net = network_from(registry, net_data, net_data["Name"], existing=existing)
        on.append(net)
        if ip:
            addresses[net] = ipaddress.IPv4Address(ip)
        if ip6:
            addresses6[net] = ipaddress.IPv6Address(ip6)
    container = Container(
        alias=alias,
        name=name,
        addresses=addresses,
        addresses6=addresses6,
        registry=registry,
        attached=tuple(on),
        existing=existing,
        network_mode=shared_mode(client, data),
        service=(data["Config"].get("Labels") or {}).get(SERVICE, ""),
        state=Started(
            data["Id"],
            data["State"]["Pid"],
            published_ports(data["NetworkSettings"].get("Ports")),
            published_ports6(data["NetworkSettings"].get("Ports")),
        ),
    )
    registry.containers[alias] = container
    return container


def existing_network(registry: Registry, name_or_id: str) -> Network:
    """A network the plugin did not create (the user's, a Compose project's), by Docker's
    name or id, known by that name: every assertion reads it, the plugin's containers may
    join it, and it is never removed or changed.

    Example::

        lan = dockernet.existing_network("corp-lan")
        probe = dockernet.container("probe", lan)
    """
    if not isinstance(name_or_id, str) or not name_or_id:
        raise TypeError(f"existing_network() takes a network's name or id, got {name_or_id!r}")
    try:
        data = registry.client.api.inspect_network(name_or_id)
    except docker.errors.NotFound:
        raise ValueError(
            f"no network {name_or_id!r} on this engine (`docker network ls` lists them)"
        ) from None
    return network_from(registry, data, data["Name"], existing=True)


def existing_container(registry: Registry, name_or_id: str) -> Container:
    """A running container the plugin did not create, by Docker's name or id, known by its
    name, with every bridge network it is on: every assertion reads it; it is never removed,
    and routes or listeners go into it only with ``allow_existing=True``.

    Example::

        db = dockernet.existing_container("postgres")
        assert_reachable(probe, db)
    """
    if not isinstance(name_or_id, str) or not name_or_id:
        raise TypeError(f"existing_container() takes a container's name or id, got {name_or_id!r}")
    try:
        data = registry.client.api.inspect_container(name_or_id)
    except docker.errors.NotFound:
        raise ValueError(
            f"no container {name_or_id!r} on this engine (`docker ps` lists them)"
        ) from None
    return container_from(registry, data, data["Name"].lstrip("/"), existing=True)


def check_may_change(container: Container, what: str, allow_existing: bool) -> None:
    """A ValueError when ``what`` would change a container the plugin did not create.

    Example::

        check_may_change(db, "listen", allow_existing=False)  # raises for an existing one
    """
    if container.existing and not allow_existing:
        raise ValueError(
            f"{what}() would change {container}, which the plugin did not create: pass "
            "allow_existing=True to change it anyway (the change outlives the test)"
        )
