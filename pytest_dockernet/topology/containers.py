"""Containers: checked as asked, then created, attached, started and read back, one or many at once.

The id is recorded in the ledger the moment Docker returns it, so a failure at any later step
leaves nothing that close() does not remove.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import docker
import docker.errors
import docker.types

from .. import addressing, labels
from ..engine import exit_report
from ..errors import ContainerStartError, DockernetError
from ..model import (
    AddressArg,
    Container,
    Network,
    NetworksArg,
    PortsArg,
    ViaArg,
    normalise_networks,
    parse_destination,
)
from .context import BuildContext
from .publishing import PortSpec, plan_ports, published_ports
from .routes import add_route, plan_route

MAX_PARALLEL = 8
"""Concurrent container starts: dockerd serialises much of the work; more gains nothing."""
DNS_SINK = "127.0.0.1"
"""Where Docker's embedded DNS sends the names it does not know, for the plugin's containers.

By default it forwards them to the host's resolvers, off this machine; a probe of a name that
must not resolve would then leave it. Sent to loopback (from the container's own namespace, as
measured on 20.10 and 28.5), nothing answers: 20.10 stays silent, 26.1 and 28.5 answer
SERVFAIL at once, and the name gets no address, as on an isolated network.
"""


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
    routes: Mapping[str, ViaArg] = field(default_factory=dict)
    ports: list[PortSpec] = field(default_factory=list)


def static_addresses(
    ctx: BuildContext, name: str, wanted: Mapping[Network, AddressArg]
) -> list[tuple[Network, ipaddress.IPv4Address | None]]:
    """Each network with its checked static address: inside the subnet, not the gateway, free."""
    result: list[tuple[Network, ipaddress.IPv4Address | None]] = []
    for net, value in wanted.items():
        if ctx.registry.networks.get(net.alias) is not net:
            raise ValueError(
                f"container {name!r}: {net} belongs to another DockerNet (the session's, a "
                f"Compose stack's): join it as dockernet.existing_network({net.name!r})"
            )
        if value is None:
            result.append((net, None))
            continue
        what = f"address of {name!r} on {net.alias!r}"
        ip = addressing.check_host_address(addressing.parse_address(value, what), net.subnet, what)
        if ip == net.gateway:
            raise ValueError(
                f"address {ip} of {name!r} on {net.alias!r} is the network's gateway: pick another"
            )
        holder = next(
            (c for c in ctx.registry.containers.values() if c.addresses.get(net) == ip), None
        )
        if holder is not None:
            raise ValueError(
                f"address {ip} on {net.alias!r} is already taken by {holder}: pick another"
            )
        result.append((net, ip))
    return result


def plan(
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
) -> ContainerSpec:
    """Check everything the test asked for; raises before anything is created."""
    labels.check_name(name, "container")
    taken = ctx.registry.name_taken(name)
    if taken is not None:
        raise ValueError(f"{taken} {name!r} already exists in this test: pick another name")
    attach = static_addresses(ctx, name, normalise_networks(networks, f"container {name!r}"))
    for dst in routes or {}:
        parse_destination(dst)
    published = plan_ports(f"container {name!r}", ports, [net for net, _ in attach])
    return ContainerSpec(
        name,
        ctx.image(image),
        command,
        env,
        cap_add,
        sysctls,
        attach,
        dict(routes or {}),
        published,
    )


def placeholder(ctx: BuildContext, spec: ContainerSpec) -> Container:
    """A Container to hand out now and fill in once started (a ``parallel()`` block)."""
    container = Container(
        alias=spec.name,
        name=ctx.docker_name(spec.name),
        id="",
        init_pid=0,
        addresses={n: ip for n, ip in spec.attach if ip is not None},
        registry=ctx.registry,
    )
    ctx.registry.containers[spec.name] = container
    return container


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
            ipv4_address=str(first[1]) if first[1] else None, aliases=[spec.name]
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


def launch(ctx: BuildContext, spec: ContainerSpec) -> Container:
    """Create, attach and start one labelled container, and read back what Docker gave it.

    It is not registered under its name: that is the caller's choice (an upstream's container
    is known by its upstream).
    """
    docker_name = ctx.docker_name(spec.name)
    cid = _create(ctx, spec, docker_name)
    api = ctx.client.api
    try:
        for net, ip in spec.attach[1:]:
            api.connect_container_to_network(
                cid, net.id, aliases=[spec.name], ipv4_address=str(ip) if ip else None
            )
        api.start(cid)
    except docker.errors.APIError as exc:
        raise ContainerStartError(
            f"container {spec.name!r} ({spec.image}) did not start: {exc.explanation}"
        ) from exc
    state = api.inspect_container(cid)
    if not state["State"]["Running"]:
        raise ContainerStartError(exit_report(ctx.client, spec.name, cid))
    attached = state["NetworkSettings"]["Networks"]
    return Container(
        alias=spec.name,
        name=docker_name,
        id=cid,
        init_pid=state["State"]["Pid"],
        addresses={
            net: ipaddress.IPv4Address(attached[net.name]["IPAddress"]) for net, _ in spec.attach
        },
        registry=ctx.registry,
        ports=published_ports(state["NetworkSettings"].get("Ports")),
    )


def start(ctx: BuildContext, spec: ContainerSpec) -> Container:
    """Launch one container, register it, and add its routes."""
    on = [net for net, _ in spec.attach]
    who = f"container {spec.name!r}"
    planned = [plan_route(who, on, dst, via) for dst, via in spec.routes.items()]
    container = launch(ctx, spec)
    ctx.registry.containers[spec.name] = container
    for destination, gateway in planned:
        add_route(container, destination, gateway)
    return container


def start_all(ctx: BuildContext, pending: Sequence[tuple[Container, ContainerSpec]]) -> None:
    """Start the placeholders' containers concurrently, then add their routes.

    Container start is most of a topology's set-up time, and independent starts overlap. Routes
    come last, since a gateway may be another container of the same batch.
    """
    if not pending:
        return
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(pending))) as pool:
        futures = [pool.submit(launch, ctx, spec) for _, spec in pending]
    failures = []
    for (held, spec), future in zip(pending, futures, strict=True):
        error = future.exception()
        if error is not None:
            del ctx.registry.containers[spec.name]
            failures.append(error)
            continue
        started = future.result()
        held.id, held.init_pid, held.addresses = started.id, started.init_pid, started.addresses
        held.ports = started.ports
    if failures:
        raise failures[0]
    for held, spec in pending:
        for dst, via in spec.routes.items():
            add_route(held, *plan_route(str(held), held.networks, dst, via))
