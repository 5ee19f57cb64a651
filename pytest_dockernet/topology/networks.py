"""User-defined bridge networks, on subnets that clash with nothing on the engine or the host.

A network gets Docker's defaults: the plugin passes no option the test did not ask for, so a
verdict is what Docker does with the user's configuration.

Docker >= 28 drops a packet for a container that arrives on any interface but the container's
own bridge (raw ``PREROUTING -d IP ! -i BRIDGE -j DROP``, or nftables' ``DROP DIRECT ACCESS``).
On a host where bridged frames pass the firewall (``net.bridge.bridge-nf-call-iptables=1``:
br_netfilter loaded) that includes every packet a router container forwards from one of the
test's bridges to another. ``routable=True`` is the explicit opt-in that lets them through, and
the narrowest trust that does: the network's bridge is named in this DockerNet's own family
(``dnr-<6 hex>-<n>``, e.g. ``dnr-3fa9c1-1``) and ``trusted_host_interfaces`` names that family
(``dnr-3fa9c1-+``, iptables' wildcard). Only the routable networks of the same DockerNet are
trusted: packets from the host's other bridges, from other tests and from outside the host are
still dropped. Engines before 28 ignore the option. Debian's Docker 28.5 writes its rules with
iptables-nft even with ``DOCKER_FIREWALL_BACKEND=nftables``, so the wildcard works there too;
a native nftables table (Docker 29) puts the names in a set, where ``+`` is not a wildcard: there
the drop stays, and the failure names its rule.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Hashable, Mapping, Sequence

import docker
import docker.errors
import docker.types

from .. import addressing
from ..engine import labels
from ..engine.client import BRIDGE_NAME_OPTION, bridge_of, version_of
from ..engine.lock import machine_lock
from ..errors import DockernetError
from ..model import Network
from ..observe import subnets
from .bridge_options import TRUSTED_OPTION, BridgeOptions
from .context import BuildContext

MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
ENABLE_IPV4_OPTION = "com.docker.network.enable_ipv4"
"""How ``ipv4=False`` reaches Docker >= 28 (``docker network create --ipv4=false``): docker-py
has no field for the API's ``EnableIPv4``, and dockerd reads this option as that field."""
IPV6_ONLY_SINCE = (28, 0)
IPV6_TRIES = 16
"""Free IPv6 subnets tried in turn when other processes take them first."""
ROUTABLE_PREFIX = "dnr"
"""The bridges of routable networks are named ``dnr-<family>-<n>``: ``dnr-3fa9c1-1``."""


def routable_summary() -> str:
    """What the plugin changes on networks, for the report header: nothing unless asked."""
    return (
        "networks get Docker's defaults; network(routable=True) alone adds "
        f"{TRUSTED_OPTION}={ROUTABLE_PREFIX}-<family>-+, which on Docker >= 28 lets packets "
        "forwarded between that DockerNet's routable bridges (a test's router) through the "
        "direct-routing drop that Docker's defaults apply to them"
    )


def routable_options(ctx: BuildContext, opts: Mapping[str, str]) -> dict[str, str]:
    """The options that make one more network routable: its bridge named in the DockerNet's
    family (unless the test named it), and the family trusted beside the names already there.

    E.g. ``{'com.docker.network.bridge.name': 'dnr-3fa9c1-2',
    'com.docker.network.bridge.trusted_host_interfaces': 'dnr-3fa9c1-+'}``.
    """
    family = f"{ROUTABLE_PREFIX}-{ctx.bridge_family}-"
    made = sum(net.routable for net in ctx.registry.networks.values())
    added = {} if BRIDGE_NAME_OPTION in opts else {BRIDGE_NAME_OPTION: f"{family}{made + 1}"}
    trusted = [name for name in opts.get(TRUSTED_OPTION, "").split(":") if name]
    if f"{family}+" not in trusted:
        trusted.append(f"{family}+")
    # Routable networks whose bridge the test named do not match the family: trust them by name.
    named = [
        net.bridge
        for net in ctx.registry.networks.values()
        if net.routable and not net.bridge.startswith(family)
    ]
    if BRIDGE_NAME_OPTION in opts:
        named.append(opts[BRIDGE_NAME_OPTION])
    trusted += [bridge for bridge in named if bridge not in trusted]
    return {**added, TRUSTED_OPTION: ":".join(trusted)}


def _options(
    ctx: BuildContext, masquerade: bool, routable: bool, options: Mapping[str, str] | None
) -> dict[str, str]:
    opts = dict(options or {})
    if routable:
        opts.update(routable_options(ctx, opts))
    if not masquerade:
        opts[MASQUERADE_OPTION] = "false"
    elif opts.get(MASQUERADE_OPTION, "true").lower() == "false":
        raise ValueError(
            f"options={{{MASQUERADE_OPTION!r}: 'false'}} contradicts masquerade=True: "
            "pass masquerade=False instead"
        )
    return opts


def _candidates(
    ctx: BuildContext,
    name: str,
    wanted: addressing.N | None,
    pool: addressing.N,
    prefix: int,
    what: str = "subnet",
) -> list[addressing.N]:
    """The subnets to try in turn: the one asked for, or the pool's free ones (IPv4, or IPv6
    from ``pool6``: ``what`` is the argument's name)."""
    family = pool.version
    used = subnets.occupied(ctx.client, family)
    if wanted is not None:
        holder = subnets.clash(wanted, used)
        if holder is not None and ctx.settle is not None:
            ctx.settle()  # it may be a finished test's network, still being removed
            holder = subnets.clash(wanted, subnets.occupied(ctx.client, family))
        if holder is not None:
            raise ValueError(
                f"{what} {wanted} for network {name!r} overlaps {holder.subnet} of "
                f"{holder.owner}: pick a free subnet, or leave {what}= unset to get one"
            )
        return [wanted]
    free = []
    for candidate in addressing.candidates(pool, prefix):
        if subnets.clash(candidate, used) is None:
            free.append(candidate)
            if family == 6 and len(free) >= IPV6_TRIES:
                break  # a /48 holds 65536 /64s: a few free ones are enough to try
    if not free:
        option = "--dockernet-pool" if family == 4 else "--dockernet-pool6"
        raise DockernetError(
            f"no free /{prefix} left in the pool {pool}: every subnet overlaps "
            f"a Docker network or a host route; widen {option}, or run "
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
    routable: bool = False,
    options: Mapping[str, str] | None = None,
    ipv6: bool = False,
    subnet6: str | ipaddress.IPv6Network | None = None,
    gateway6: str | ipaddress.IPv6Address | None = None,
    ipv4: bool = True,
    icc: bool = True,
    gateway_mode: str | tuple[str, str] | None = None,
    mtu: int | None = None,
    host_binding: str | ipaddress.IPv4Address | ipaddress.IPv6Address | None = None,
    bridge_name: str | None = None,
    trusted_host_interfaces: Sequence[str] | None = None,
) -> Network:
    """Create a user-defined bridge network (``docker network create``), labelled and
    recorded before anything else can fail.

    Without ``subnet`` one is taken from the pool that clashes with no Docker network and
    no host route; with one, a clash is an error naming who holds the subnet.
    The network gets Docker's defaults and the ``options`` given, nothing else.
    ``routable=True`` lets this DockerNet's routers deliver into it from its other routable
    networks where Docker >= 28 would drop the packets (a host with
    ``net.bridge.bridge-nf-call-iptables=1``): its bridge is named ``dnr-<family>-<n>`` and
    ``trusted_host_interfaces`` names that family, nothing wider.

    ``ipv6=True`` makes it dual-stack (``docker network create --ipv6``) with a /64 from the
    IPv6 pool (``--dockernet-pool6``) that clashes with nothing; ``subnet6`` names the /64
    instead (and implies ``ipv6=True``), ``gateway6`` the bridge's IPv6 address (``::1`` of
    the subnet by default). Docker's own firewall rules for IPv6 are the engine's to write
    (``ip6tables`` in the daemon's configuration: on by default from Docker 27): the plugin
    changes nothing there.

    ``ipv4=False`` makes an IPv6-only network (Docker >= 28, ``--ipv4=false``; it implies
    ``ipv6=True``): ``subnet`` and ``gateway`` are None, and its containers hold IPv6 addresses
    only. An older engine would make a dual-stack network of it: a ValueError names its
    version instead.

    The bridge driver's options as keywords (:mod:`~pytest_dockernet.topology.bridge_options`):
    ``icc=False`` (containers on the network cannot reach each other), ``gateway_mode``
    (``nat``, ``routed`` from Docker 27; ``nat-unprotected``, ``isolated`` from 28; one mode or
    ``(ipv4, ipv6)``), ``mtu``, ``host_binding`` (the host address published ports bind to by
    default), ``bridge_name`` and ``trusted_host_interfaces`` (host interfaces whose packets
    reach its containers directly, where Docker >= 28 drops them; from Docker 28.2, iptables'
    ``+`` wildcard allowed). One the engine does not support is a ValueError naming the
    version that added it, never passed to an engine that would ignore it; ``options=`` stays
    for any other.

    Example::

        a = dockernet.network("a", routable=True)
        b = dockernet.network("b", subnet="10.98.0.0/24", routable=True)
        dockernet.router("r", [a, b])
        lan = dockernet.network("lan", ipv6=True)  # lan.subnet6: a /64 of fd64:6e65:7400::/48
        v6 = dockernet.network("v6", ipv4=False)  # IPv6-only: v6.subnet is None
        quiet = dockernet.network("quiet", icc=False, mtu=1400)
    """
    labels.check_name(name, "network")
    if name in ctx.registry.networks:
        raise ValueError(f"network {name!r} already exists in this test: pick another name")
    for flag, value in (("ipv6", ipv6), ("ipv4", ipv4)):
        if not isinstance(value, bool):
            raise TypeError(f"{flag} must be True or False, got {value!r}")
    if not ipv4:
        _check_ipv6_only(ctx, name, subnet, gateway)
    wanted = addressing.parse_subnet(subnet) if subnet is not None else None
    gw = addressing.parse_address(gateway, "gateway") if gateway is not None else None
    if gw is not None and wanted is None:
        raise ValueError(f"gateway={gw} needs subnet= too, so that it can be checked")
    if wanted is not None and gw is not None:
        addressing.check_host_address(gw, wanted, "gateway")
    wanted6 = addressing.parse_subnet6(subnet6) if subnet6 is not None else None
    gw6 = addressing.parse_address6(gateway6, "gateway6") if gateway6 is not None else None
    if gw6 is not None and wanted6 is None:
        raise ValueError(f"gateway6={gw6} needs subnet6= too, so that it can be checked")
    if wanted6 is not None and gw6 is not None:
        addressing.check_host_address(gw6, wanted6, "gateway6")
    ipv6 = ipv6 or wanted6 is not None or not ipv4
    keywords = BridgeOptions(
        icc, gateway_mode, mtu, host_binding, bridge_name, trusted_host_interfaces
    )
    given = dict(options or {})
    given.update(keywords.options(version_of(ctx.registry.engine_info), given, internal))
    opts = _options(ctx, masquerade, routable, given)
    if not ipv4:
        opts[ENABLE_IPV4_OPTION] = "false"
    key = None
    # Only a network whose subnet comes from the pool: nobody asks for one of those by address.
    fixed = wanted is not None or gw is not None or ipv6 or routable or BRIDGE_NAME_OPTION in opts
    if ctx.kept_networks is not None and not fixed:
        key = (name, internal, tuple(sorted(opts.items())), ctx.pool, ctx.prefix)
        kept = _kept(ctx, name, key, internal, masquerade)
        if kept is not None:
            return kept
    docker_name = ctx.docker_name(name)
    candidates6: list[ipaddress.IPv6Network | None] = [None]
    if ipv6:
        candidates6 = list(
            _candidates(ctx, name, wanted6, ctx.pool6, addressing.DEFAULT_PREFIX6, "subnet6")
        )
    candidates: list[ipaddress.IPv4Network | None] = [None] * len(candidates6)
    if ipv4:
        candidates = list(_candidates(ctx, name, wanted, ctx.pool, ctx.prefix))
    for attempt, candidate in enumerate(candidates):
        gw_here = None if candidate is None else gw or next(candidate.hosts())
        candidate6 = candidates6[attempt % len(candidates6)]
        gw6_here = None if candidate6 is None else gw6 or candidate6.network_address + 1
        pools = []
        if candidate is not None:
            pools.append(docker.types.IPAMPool(subnet=str(candidate), gateway=str(gw_here)))
        if candidate6 is not None:
            pools.append(docker.types.IPAMPool(subnet=str(candidate6), gateway=str(gw6_here)))
        ipam = docker.types.IPAMConfig(pool_configs=pools)
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
                        enable_ipv6=ipv6,
                    ),
                )
        except docker.errors.APIError as exc:
            # Another process took the subnet between our look and Docker's: try the next.
            free = (ipv4 and wanted is None) or (ipv6 and wanted6 is None)
            if free and "overlap" in str(exc).lower():
                continue
            shown = " and ".join(str(c) for c in (candidate, candidate6) if c is not None)
            raise DockernetError(
                f"docker refused network {name!r} ({shown}): {exc.explanation}"
            ) from exc
        net = Network(
            alias=name,
            name=docker_name,
            id=net_id,
            subnet=candidate,
            gateway=gw_here,
            bridge=bridge_of({"Id": net_id, "Options": opts}),
            internal=internal,
            masquerade=masquerade,
            routable=routable,
            registry=ctx.registry,
            subnet6=candidate6,
            gateway6=gw6_here,
        )
        ctx.registry.networks[name] = net
        if key is not None:
            ctx.keys[net_id] = key
        return net
    pool, option = (ctx.pool, "--dockernet-pool") if ipv4 else (ctx.pool6, "--dockernet-pool6")
    raise DockernetError(
        f"every free subnet of the pool {pool} was taken by other processes while "
        f"creating network {name!r}: widen {option}"
    )


def _kept(
    ctx: BuildContext, name: str, key: Hashable, internal: bool, masquerade: bool
) -> Network | None:
    """A kept network asked for as ``key`` (``kept_networks``), now this test's; None when
    there is none (or it is gone meanwhile): the caller creates one."""
    assert ctx.kept_networks is not None
    net_id = ctx.kept_networks.take(key, ctx.ledger)
    if net_id is None:
        return None
    try:
        found = ctx.client.api.inspect_network(net_id)
    except docker.errors.NotFound:
        return None
    config = found["IPAM"]["Config"][0]
    subnet = ipaddress.IPv4Network(config["Subnet"])
    net = Network(
        alias=name,
        name=found["Name"],
        id=net_id,
        subnet=subnet,
        gateway=ipaddress.IPv4Address(config.get("Gateway") or next(subnet.hosts())),
        bridge=bridge_of(found),
        internal=internal,
        masquerade=masquerade,
        routable=False,
        registry=ctx.registry,
    )
    ctx.registry.networks[name] = net
    ctx.keys[net_id] = key
    return net


def _check_ipv6_only(ctx: BuildContext, name: str, subnet: object, gateway: object) -> None:
    """``ipv4=False`` asks for no IPv4 subnet, on an engine that makes IPv6-only networks."""
    for what, value in (("subnet", subnet), ("gateway", gateway)):
        if value is not None:
            raise ValueError(
                f"network {name!r}: {what}={value!r} is IPv4, and ipv4=False makes an "
                f"IPv6-only network: drop {what}=, or give subnet6=/gateway6= instead"
            )
    info = ctx.registry.engine_info
    if version_of(info) < IPV6_ONLY_SINCE:
        raise ValueError(
            f"network {name!r}: ipv4=False needs Docker 28.0 or later (IPv6-only networks); "
            f"this engine is Docker {info.get('ServerVersion', '?')}, which would make a "
            "dual-stack network of it: use ipv6=True, or run the test on Docker >= 28"
        )
