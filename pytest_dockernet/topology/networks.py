"""User-defined bridge networks, on subnets that clash with nothing on the engine or the host.

Docker >= 28 drops a packet for a container that arrives on any interface but the container's
own bridge (raw ``PREROUTING -d IP ! -i BRIDGE -j DROP``). That is exactly the path of a packet
a router container forwards from one of the test's bridges to another, so a network is made
*routable* by default: ``trusted_host_interfaces`` names every user-defined bridge with
iptables' prefix match ``br-+`` (Docker's own bridge names, ``br-<network id>``, are not known
before the networks exist, and a test makes its networks one by one), plus any bridge the test
named itself. The protection against packets from outside the host stays, and so does Docker's
isolation between bridges, which the filter table applies to packets the host forwards.
Docker's nftables backend matches names in a set, where ``+`` means nothing, so there the network
is made ``nat-unprotected`` instead. Engines before 28 ignore both options. ``routable=False``
keeps Docker's protection.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping

import docker
import docker.errors
import docker.types

from .. import addressing, labels
from ..errors import DockernetError
from ..firewall_lock import machine_lock
from ..model import Network
from ..observe.firewall import reports_native_nftables
from .context import BuildContext

MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
TRUSTED_OPTION = "com.docker.network.bridge.trusted_host_interfaces"
GATEWAY_MODE_OPTION = "com.docker.network.bridge.gateway_mode_ipv4"
DOCKER_BRIDGES = "br-+"
"""iptables' name for every interface whose name starts ``br-``: Docker's user bridges."""


def routable_summary(native_nftables: bool) -> str:
    """Which option makes networks routable on this engine, and why: for the report header."""
    option = (
        f"{GATEWAY_MODE_OPTION}=nat-unprotected"
        if native_nftables
        else (f"{TRUSTED_OPTION}={DOCKER_BRIDGES}")
    )
    return (
        f"networks are made with {option}, so that a test's routers can forward between its "
        "bridges on Docker >= 28 (older engines ignore it); network(routable=False) keeps "
        "Docker's drop of packets from other bridges"
    )


def routable_options(
    ctx: BuildContext, opts: Mapping[str, str], native_nftables: bool
) -> dict[str, str]:
    """The options that let the test's routers deliver into a network on Docker >= 28."""
    if native_nftables:
        return {} if GATEWAY_MODE_OPTION in opts else {GATEWAY_MODE_OPTION: "nat-unprotected"}
    trusted = [name for name in opts.get(TRUSTED_OPTION, "").split(":") if name]
    # Bridges the test named itself do not match the prefix: trust those made so far by name.
    named = [
        net.bridge for net in ctx.registry.networks.values() if not net.bridge.startswith("br-")
    ]
    for bridge in (DOCKER_BRIDGES, *named):
        if bridge not in trusted:
            trusted.append(bridge)
    return {TRUSTED_OPTION: ":".join(trusted)}


def _options(
    ctx: BuildContext, masquerade: bool, routable: bool, options: Mapping[str, str] | None
) -> dict[str, str]:
    opts = dict(options or {})
    if routable:
        opts.update(routable_options(ctx, opts, reports_native_nftables(ctx.registry.engine_info)))
    if not masquerade:
        opts[MASQUERADE_OPTION] = "false"
    elif opts.get(MASQUERADE_OPTION, "true").lower() == "false":
        raise ValueError(
            f"options={{{MASQUERADE_OPTION!r}: 'false'}} contradicts masquerade=True: "
            "pass masquerade=False instead"
        )
    return opts


def _candidates(
    ctx: BuildContext, name: str, wanted: ipaddress.IPv4Network | None
) -> list[ipaddress.IPv4Network]:
    """The subnets to try in turn: the one asked for, or the pool's free ones."""
    used = addressing.occupied(ctx.client)
    if wanted is not None:
        holder = addressing.clash(wanted, used)
        if holder is not None and ctx.settle is not None:
            ctx.settle()  # it may be a finished test's network, still being removed
            holder = addressing.clash(wanted, addressing.occupied(ctx.client))
        if holder is not None:
            raise ValueError(
                f"subnet {wanted} for network {name!r} overlaps {holder.subnet} of "
                f"{holder.owner}: pick a free subnet, or leave subnet= unset to get one"
            )
        return [wanted]
    free = [
        s for s in addressing.candidates(ctx.pool, ctx.prefix) if addressing.clash(s, used) is None
    ]
    if not free:
        raise DockernetError(
            f"no free /{ctx.prefix} left in the pool {ctx.pool}: every subnet overlaps "
            "a Docker network or a host route; widen --dockernet-pool, or run "
            "`pytest --dockernet-sweep` if old runs leaked networks"
        )
    return free


def create_network(
    ctx: BuildContext,
    name: str,
    *,
    subnet: str | ipaddress.IPv4Network | None = None,
    gateway: str | ipaddress.IPv4Address | None = None,
    internal: bool = False,
    masquerade: bool = True,
    routable: bool = True,
    options: Mapping[str, str] | None = None,
) -> Network:
    """Create a labelled bridge network and record it before anything else can fail."""
    labels.check_name(name, "network")
    if name in ctx.registry.networks:
        raise ValueError(f"network {name!r} already exists in this test: pick another name")
    wanted = addressing.parse_subnet(subnet) if subnet is not None else None
    gw = addressing.parse_address(gateway, "gateway") if gateway is not None else None
    if gw is not None and wanted is None:
        raise ValueError(f"gateway={gw} needs subnet= too, so that it can be checked")
    if wanted is not None and gw is not None:
        addressing.check_host_address(gw, wanted, "gateway")
    opts = _options(ctx, masquerade, routable, options)
    docker_name = ctx.docker_name(name)
    for candidate in _candidates(ctx, name, wanted):
        gw_here = gw or next(candidate.hosts())
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=str(candidate), gateway=str(gw_here))]
        )
        try:
            # Docker rewrites its rules for the new bridge (20.10: FORWARD's isolation jump too).
            with machine_lock().writing(f"create network {docker_name}"):
                net_id = ctx.ledger.record(
                    "network",
                    docker_name,
                    functools.partial(
                        ctx.client.api.create_network,
                        docker_name,
                        driver="bridge",
                        ipam=ipam,
                        internal=internal,
                        labels=ctx.labels(name),
                        options=opts,
                        check_duplicate=True,
                    ),
                )
        except docker.errors.APIError as exc:
            # Another process took the subnet between our look and Docker's: try the next.
            if wanted is None and "overlap" in str(exc).lower():
                continue
            raise DockernetError(
                f"docker refused network {name!r} ({candidate}): {exc.explanation}"
            ) from exc
        net = Network(
            alias=name,
            name=docker_name,
            id=net_id,
            subnet=candidate,
            gateway=gw_here,
            bridge=opts.get(BRIDGE_NAME_OPTION, f"br-{net_id[:12]}"),
            internal=internal,
            masquerade=masquerade,
            registry=ctx.registry,
        )
        ctx.registry.networks[name] = net
        return net
    raise DockernetError(
        f"every free subnet of the pool {ctx.pool} was taken by other processes while "
        f"creating network {name!r}: widen --dockernet-pool"
    )
