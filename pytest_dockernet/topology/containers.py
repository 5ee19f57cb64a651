"""Containers: checked as asked, given their addresses, then created, attached, started and
read back in the background while the test goes on.

Container starts are most of a test's set-up time and independent ones overlap, so
``container()`` returns at once and Docker's work runs on a pool of threads; whatever needs the
running container waits for it (``Container.wait_started``). The id is recorded in the ledger
the moment Docker returns it, so a failure at any later step leaves nothing that close() does
not remove.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import sys
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypedDict

import docker
import docker.errors
import docker.types

from .. import addressing
from ..engine import images, labels, netns
from ..engine.client import api_at_least, exit_report
from ..engine.labels import RunIdentity
from ..engine.lock import machine_lock
from ..engine.teardown import Ledger
from ..errors import ContainerStartError, DockernetError
from ..model import Container, Network, Started
from ..model.arguments import (
    AliasesArg,
    NetworksArg,
    PortsArg,
    ViaArg,
    normalise_aliases,
    normalise_networks,
    parse_destination,
)
from ..observe.container_state import ContainerState
from . import reuse
from .addresses import plan_addresses, wait_for_dad
from .context import BuildContext
from .publishing import PortSpec, plan_ports, published_ports, published_ports6
from .routes import add_in_namespace, plan_route
from .warm import POOL_API, POOLED, WarmPool

DNS_SINK = "127.0.0.1"
"""Where Docker's embedded DNS sends the names it does not know, for the plugin's containers.

By default it forwards them to the host's resolvers, off this machine; a probe of a name that
must not resolve would then leave it. Sent to loopback (from the container's own namespace, as
measured on 20.10 and 28.5), nothing answers: 20.10 stays silent, 26.1 and 28.5 answer
SERVFAIL at once, and the name gets no address, as on an isolated network.
"""
P = ParamSpec("P")


@dataclass
class ContainerSpec:
    """A container as the test asked for it, checked before Docker sees it."""

    name: str
    image: str
    command: str | Sequence[str] | None = None
    env: Mapping[str, str] | None = None
    cap_add: Iterable[str] = ()
    sysctls: Mapping[str, str] | None = None
    attach: list[tuple[Network, ipaddress.IPv4Address | None]] = field(default_factory=list)
    """Each network with the static address asked for, in order; none means network "none"."""
    attach6: dict[Network, ipaddress.IPv6Address] = field(default_factory=dict)
    """The IPv6 address on each network with IPv6 (where Docker does not pick it)."""
    routes: Mapping[str, ViaArg] = field(default_factory=dict)
    ports: list[PortSpec] = field(default_factory=list)
    aliases: dict[Network, tuple[str, ...]] = field(default_factory=dict)
    """The names beside its own that it answers to on each network (``--network-alias``)."""

    def aliases_on(self, net: Network) -> list[str]:
        """Docker's aliases for the endpoint on ``net``: the container's name, then the test's.

        Example:
            ```python
            spec.aliases_on(lan)  # ['db', 'postgres']
            ```
        """
        return [self.name, *self.aliases.get(net, ())]


ADDRESS_RULES_API = (1, 48)
"""Docker 28.0: each container on a bridge gets raw-table rules for its addresses."""


def rewrites_firewall(client: docker.DockerClient, *, publishes: bool, bridged: bool) -> bool:
    """Docker writes firewall rules when a container starts, goes, or joins or leaves a
    network: it publishes ports (DNAT, and hairpin MASQUERADE rules that name no bridge), or it
    is on a bridge of Docker >= 28 (raw rules per address). The one rule for every caller that
    holds the machine's firewall lock around such a call."""
    return publishes or (bridged and api_at_least(client, ADDRESS_RULES_API))


def container(
    ctx: BuildContext,
    name: str,
    networks: NetworksArg,
    *,
    image: str | None = None,
    command: str | Sequence[str] | None = None,
    cap_add: Iterable[str] = (),
    sysctls: Mapping[str, str] | None = None,
    routes: Mapping[str, ViaArg] | None = None,
    env: Mapping[str, str] | None = None,
    ports: PortsArg | None = None,
    aliases: AliasesArg | None = None,
) -> Container:
    """A container on ``networks`` (``docker run --net``), returned at once while Docker
    creates and starts it in the background: its addresses are known now, and whatever
    needs it running (an assertion, a route in it, ``.id``) waits for it. An error of the
    start is raised there, or at the end of the test; what the test asked for is checked
    before anything is created.

    ``routes`` maps a destination ("default" or a CIDR) to a gateway (an address or a
    Container); they are added from the host, so the image needs no ``ip`` tool.
    ``ports`` publishes container ports (``docker run -p``): ``{8080: None}`` lets Docker
    pick the host port, ``{8080: 18080}`` fixes it, ``{"53/udp": ("127.0.0.1", None)}``
    binds loopback only; ``container.published(8080)`` tells what Docker bound.
    ``aliases`` are more names it answers to in Docker's DNS (``--network-alias``): a list for
    every network, or ``{net: [names]}`` for some; they hold on that network only.

    Example::

        web = dockernet.container("web", net, routes={"default": router}, ports={8080: None})
        db = dockernet.container("db", [lan, admin], aliases={lan: ["postgres"]})
    """
    labels.check_name(name, "container")
    taken = ctx.registry.name_taken(name)
    if taken is not None:
        raise ValueError(f"{taken} {name!r} already exists in this test: pick another name")
    plan = plan_addresses(ctx, name, normalise_networks(networks, f"container {name!r}"))
    for dst in routes or {}:
        parse_destination(dst)
    published = plan_ports(f"container {name!r}", ports, [net for net, _ in plan.v4])
    named = normalise_aliases(aliases, [net for net, _ in plan.v4], f"container {name!r}")
    spec = ContainerSpec(
        name,
        ctx.image(image),
        command,
        env,
        cap_add,
        sysctls,
        plan.v4,
        plan.v6,
        dict(routes or {}),
        published,
        named,
    )
    return start(ctx, spec, origin=_called_from())


def _called_from() -> str:
    """``file:line`` of the first caller outside this package: the test's line that asked."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for frame, line in traceback.walk_stack(sys._getframe(1)):
        path = frame.f_code.co_filename
        if not path.startswith(package):
            return f"{os.path.relpath(path) if path.startswith(os.getcwd()) else path}:{line}"
    return ""


def _create(ctx: BuildContext, spec: ContainerSpec, docker_name: str) -> str:
    api = ctx.client.api
    cmd = ["/bin/sh", "-c", spec.command] if isinstance(spec.command, str) else spec.command
    first = spec.attach[0] if spec.attach else None
    host_config = api.create_host_config(
        network_mode=first[0].name if first else "none",
        cap_add=sorted(set(spec.cap_add)) or None,
        sysctls=dict(spec.sysctls) if spec.sysctls else None,
        dns=[DNS_SINK],
        port_bindings={p.key: [p.binding()] for p in spec.ports} or None,
    )
    endpoints = {}
    if first:
        endpoints[first[0].name] = api.create_endpoint_config(
            aliases=spec.aliases_on(first[0]), **_addresses(spec, *first)
        )
    try:
        return ctx.ledger.record(
            "container",
            docker_name,
            functools.partial(
                api.create_container,
                spec.image,
                command=list(cmd) if cmd else None,
                name=docker_name,
                hostname=spec.name,
                ports=[(p.port, p.proto) for p in spec.ports] or None,
                labels=ctx.labels(spec.name),
                environment=dict(spec.env) if spec.env else None,
                host_config=host_config,
                # types-docker says EndpointConfig; docker-py takes {network: EndpointConfig}.
                networking_config=docker.types.NetworkingConfig(endpoints) if endpoints else None,  # type: ignore[arg-type]
            ),
        )
    except docker.errors.APIError as exc:
        raise DockernetError(f"docker refused container {spec.name!r}: {exc.explanation}") from exc


class EndpointAddresses(TypedDict):
    """docker-py's address arguments of an endpoint."""

    ipv4_address: str | None
    ipv6_address: str | None


def _addresses(
    spec: ContainerSpec, net: Network, ip: ipaddress.IPv4Address | None
) -> EndpointAddresses:
    """The addresses to ask Docker for on ``net``."""
    ip6 = spec.attach6.get(net)
    return EndpointAddresses(
        ipv4_address=str(ip) if ip else None, ipv6_address=str(ip6) if ip6 else None
    )


def launch(ctx: BuildContext, spec: ContainerSpec) -> Container:
    """Create, attach and start one labelled container, and read back what Docker gave it.

    It is not registered under its name: that is the caller's choice (an upstream's container
    is known by its upstream).
    """
    docker_name = ctx.docker_name(spec.name)
    cid = _create(ctx, spec, docker_name)
    rewrites = rewrites_firewall(ctx.client, publishes=bool(spec.ports), bridged=bool(spec.attach))
    if not rewrites:
        ctx.ledger.no_rules.add(cid)
    api = ctx.client.api
    try:
        with machine_lock().writing(f"start container {docker_name}", when=rewrites):
            for net, ip in spec.attach[1:]:
                api.connect_container_to_network(
                    cid, net.id, aliases=spec.aliases_on(net), **_addresses(spec, net, ip)
                )
            api.start(cid)
    except docker.errors.APIError as exc:
        raise ContainerStartError(
            f"container {spec.name!r} ({spec.image}) did not start: {exc.explanation}"
        ) from exc
    return _read_back(ctx, spec, api.inspect_container(cid), docker_name)


def _read_back(
    ctx: BuildContext, spec: ContainerSpec, state: dict[str, Any], docker_name: str
) -> Container:
    """The Container value from Docker's inspect of the running container."""
    container = Container(alias=spec.name, name=docker_name, addresses={}, registry=ctx.registry)
    return follow(ctx.client, container, state, [net for net, _ in spec.attach])


def follow(
    client: docker.DockerClient,
    container: Container,
    state: dict[str, Any],
    networks: Sequence[Network],
) -> Container:
    """Set the container's values to what Docker's inspect ``state`` reports (addresses of
    each family, networks, init pid, published ports), on ``networks`` in that order where
    Docker has it; a container that is not running is a ContainerStartError with its exit
    report. The one reading of an inspect, for a start and for every change after it."""
    if not state["State"]["Running"]:
        raise ContainerStartError(exit_report(client, container.alias, state["Id"]))
    endpoints = state["NetworkSettings"]["Networks"] or {}
    on = [net for net in networks if net.name in endpoints]
    # New dicts, not updates: another thread may be reading the old ones.
    container.addresses = {
        net: ipaddress.IPv4Address(endpoints[net.name]["IPAddress"])
        for net in on
        if endpoints[net.name].get("IPAddress")  # none on an IPv6-only network
    }
    container.addresses6 = {
        net: ipaddress.IPv6Address(endpoints[net.name]["GlobalIPv6Address"])
        for net in on
        if endpoints[net.name].get("GlobalIPv6Address")
    }
    container.attached = tuple(on)
    ports = state["NetworkSettings"].get("Ports")
    container.state = Started(
        state["Id"], state["State"]["Pid"], published_ports(ports), published_ports6(ports)
    )
    container.starting = None
    return container


def start_warm(
    client: docker.DockerClient, identity: RunIdentity, image: str, ledger: Ledger, docker_name: str
) -> tuple[str, ContainerState]:
    """Create and start a container for the warm pool: on network "none", with what every
    container of the plugin gets (labels, the DNS sink); it waits there for a test. Returns
    its id and its state as it starts, which it must have again to go back to the pool."""
    api = client.api
    cid = ledger.record(
        "container",
        docker_name,
        functools.partial(
            api.create_container,
            image,
            name=docker_name,
            labels=identity.labels(POOLED),
            host_config=api.create_host_config(network_mode="none", dns=[DNS_SINK]),
        ),
    )
    ledger.no_rules.add(cid)  # on network "none": no rule, until a test's networks are joined
    api.start(cid)
    return cid, reuse.read_state(client, api.inspect_container(cid))


def warm_pool(client: docker.DockerClient, identity: RunIdentity, size: int) -> WarmPool:
    """A pool of ``size`` containers of the built-in image for the DockerNets of one run,
    filling in the background from now on (``DockerNet(..., warm=pool)``; ``pool.close()``
    at the end). A DockernetError on Docker before 28 (``warm.POOL_API``)."""
    if not api_at_least(client, POOL_API):
        raise DockernetError(
            f"the warm pool needs Docker 28 or later (API {POOL_API[0]}.{POOL_API[1]}); this "
            f"engine speaks API {client.api.api_version}: on Docker 20.10 dockerd deadlocked "
            "while pooled containers left network none beside other network changes"
        )
    image = images.ensure_default_image(client)
    return WarmPool(
        client,
        image,
        size,
        functools.partial(start_warm, client, identity, image),
        # "_" cannot begin a test's name: no container of a DockerNet can take this one.
        lambda number: identity.docker_name(f"_warm{number}"),
    )


def _servable(spec: ContainerSpec, warm: WarmPool) -> bool:
    """Only a request a pooled container answers exactly: the pool's image and nothing that
    Docker fixes at create time. (A container given back answers only requests on networks,
    every one user-defined: ``reuse``.)"""
    return (
        spec.image == warm.image
        and spec.command is None
        and not spec.env
        and not set(spec.cap_add)
        and not spec.sysctls
        and not spec.ports
    )


def take_warm(ctx: BuildContext, spec: ContainerSpec, cid: str, used: bool) -> Container:
    """Make a pooled container the one the test asked for: Docker's name, then its networks
    (with their addresses and the alias), then the hostname it would have had from the start
    (``uname -n``, /etc/hostname and its line in /etc/hosts). One that an earlier test
    ``used`` is on no network; a fresh one leaves network "none". It goes back to the pool
    when the test ends (``reuse.give_back``)."""
    api = ctx.client.api
    docker_name = ctx.docker_name(spec.name)
    ctx.returns[cid] = functools.partial(reuse.give_back, ctx, cid, spec.name)
    try:
        api.rename(cid, docker_name)
        with machine_lock().writing(
            f"attach container {docker_name}",
            when=rewrites_firewall(
                ctx.client, publishes=bool(spec.ports), bridged=bool(spec.attach)
            ),
        ):
            if not used:
                api.disconnect_container_from_network(cid, "none")
            for net, ip in spec.attach:
                api.connect_container_to_network(
                    cid, net.id, aliases=spec.aliases_on(net), **_addresses(spec, net, ip)
                )
    except docker.errors.APIError as exc:
        raise ContainerStartError(
            f"container {spec.name!r} ({spec.image}, from the warm pool) could not be attached: "
            f"{exc.explanation}"
        ) from exc
    state = api.inspect_container(cid)
    container = _read_back(ctx, spec, state, docker_name)
    netns.set_hostname(container.init_pid, spec.name)
    Path(state["HostnamePath"]).write_text(f"{spec.name}\n")
    hosts = Path(state["HostsPath"])
    hosts.write_text(reuse.renamed(hosts.read_text(), state["Config"]["Hostname"], spec.name))
    return container


def start(ctx: BuildContext, spec: ContainerSpec, origin: str = "") -> Container:
    """Register the container at once, with the addresses it will have, and start it (and add
    its routes) in the background."""
    on = [net for net, _ in spec.attach]
    who = f"container {spec.name!r}"
    planned = [plan_route(who, on, dst, via) for dst, via in spec.routes.items()]
    ctx.routes[spec.name] = planned
    container = Container(
        alias=spec.name,
        name=ctx.docker_name(spec.name),
        addresses={n: ip for n, ip in spec.attach if ip is not None},
        addresses6=dict(spec.attach6),
        registry=ctx.registry,
        attached=tuple(on),
    )
    ctx.registry.containers[spec.name] = container
    container.starting = ctx.submit(_bring_up, ctx, spec, container, planned, origin)
    return container


def _bring_up(
    ctx: BuildContext,
    spec: ContainerSpec,
    container: Container,
    planned: Sequence[tuple[addressing.IPNetwork, addressing.IPAddress]],
    origin: str,
) -> Started:
    """The background part of start(): Docker's work, the addresses Docker picked, the routes.
    An error names where the test asked for the container."""
    try:
        warm = ctx.warm if ctx.warm is not None and _servable(spec, ctx.warm) else None
        pooled = warm.take(ctx.ledger, used=bool(spec.attach)) if warm is not None else None
        started = launch(ctx, spec) if pooled is None else take_warm(ctx, spec, *pooled)
        # Docker's picks on networks the plugin did not create; a new dict, not an update,
        # for the test's thread may be reading the old one.
        container.addresses = {**started.addresses, **container.addresses}
        container.addresses6 = {**started.addresses6, **container.addresses6}
        state = started.wait_started()
        for destination, gateway in planned:
            add_in_namespace(str(container), state.init_pid, destination, gateway)
        if container.addresses6:
            wait_for_dad(state.init_pid, str(container))
        for net in container.addresses6:  # the host's end routes to it through the bridge
            wait_for_dad(None, f"the bridge of network {net.shown}", net.bridge)
    except Exception as exc:
        if origin and hasattr(exc, "add_note"):  # Python >= 3.11 shows it under the message
            exc.add_note(f"(dockernet.container({spec.name!r}) was called at {origin})")
        raise
    return state
