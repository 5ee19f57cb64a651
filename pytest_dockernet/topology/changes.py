"""Changes to a running container during a test, made as ``docker network connect``, ``docker
network disconnect`` and ``docker restart`` make them, after which the Container value holds
what Docker then reports: its networks, its addresses, its init process, its published ports.

Nothing is assumed to survive a change: every value is read back from Docker's inspect, so a
test that asserts an address kept across a restart asserts what Docker did.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import docker.errors

from ..engine.lock import machine_lock
from ..errors import ContainerStartError, DockernetError
from ..model import Container, Network
from ..model.arguments import AddressArg, need, normalise_aliases
from .addresses import plan_addresses, wait_for_dad
from .containers import follow, rewrites_firewall
from .context import BuildContext
from .existing import check_may_change
from .routes import add_in_namespace


def connect(
    ctx: BuildContext,
    container: Container,
    network: Network,
    *,
    ip: AddressArg | None = None,
    aliases: Sequence[str] = (),
    allow_existing: bool = False,
) -> None:
    """Connect a running container to one more network (``docker network connect``).

    Without ``ip`` it gets the lowest free address on a network of the test (the mirrored
    IPv6 address too, on a dual-stack one), and Docker's pick on a network the plugin did
    not create; ``ip`` is an address, or a pair (IPv4, IPv6), as in ``container()``. It
    answers to its name and ``aliases`` on that network only. A container the plugin did not
    create is changed only with ``allow_existing=True`` (it stays connected until the network
    goes).

    Example::

        dockernet.connect(web, admin, aliases=["api"])
        assert_resolves(ops, "api", to=web.ip(admin))
    """
    need(container, Container, "connect(): the container")
    need(network, Network, "connect(): the network")
    check_may_change(container, "connect", allow_existing)
    container.check_own_namespace()
    if network in container.networks:
        raise ValueError(
            f"{container} is already on network {network.shown}: disconnect it first, or "
            "connect it to another network"
        )
    what = f"connect({container.alias!r}, {network.alias!r})"
    named = normalise_aliases(list(aliases), [network], what).get(network, ())
    plan = plan_addresses(ctx, container.alias, {network: ip})
    ip4, ip6 = plan.v4[0][1], plan.v6.get(network)
    cid = container.id
    own = () if container.existing else (container.alias,)
    try:
        with _firewall_written(ctx, container, f"connect {container.name} to {network.name}"):
            ctx.client.api.connect_container_to_network(
                cid,
                network.id,
                aliases=[*own, *named] or None,
                ipv4_address=str(ip4) if ip4 else None,
                ipv6_address=str(ip6) if ip6 else None,
            )
    except docker.errors.APIError as exc:
        raise DockernetError(
            f"docker refused to connect {container} to network {network.shown}: {exc.explanation}"
        ) from exc
    if rewrites_firewall(ctx.client, publishes=bool(container.ports), bridged=True):
        ctx.ledger.no_rules.discard(cid)  # its removal rewrites rules too (Docker >= 28)
    _follow(ctx, container, [*container.networks, network])
    if network.subnet6 is not None:
        wait_for_dad(container.pid, str(container))
        wait_for_dad(None, f"the bridge of network {network.shown}", network.bridge)


def disconnect(
    ctx: BuildContext, container: Container, network: Network, *, allow_existing: bool = False
) -> None:
    """Disconnect a container from one of its networks (``docker network disconnect``): its
    interface, address and aliases there go; its other networks stay. A container the plugin
    did not create is changed only with ``allow_existing=True``.

    Example::

        dockernet.disconnect(db, lan)
        assert_not_resolvable(app, "db")
        assert db.networks == (admin,)
    """
    need(container, Container, "disconnect(): the container")
    need(network, Network, "disconnect(): the network")
    check_may_change(container, "disconnect", allow_existing)
    if network not in container.networks:
        joined = ", ".join(n.shown for n in container.networks) or "none"
        raise ValueError(
            f"{container} is not on network {network.shown} (it is on: {joined}): nothing to "
            "disconnect"
        )
    cid = container.id
    try:
        with _firewall_written(ctx, container, f"disconnect {container.name}"):
            ctx.client.api.disconnect_container_from_network(cid, network.id)
    except docker.errors.APIError as exc:
        raise DockernetError(
            f"docker refused to disconnect {container} from network {network.shown}: "
            f"{exc.explanation}"
        ) from exc
    _follow(ctx, container, [n for n in container.networks if n is not network])


def restart(
    ctx: BuildContext, container: Container, *, timeout: int = 10, allow_existing: bool = False
) -> None:
    """Restart a container (``docker restart -t timeout``): Docker stops it (SIGTERM, then
    SIGKILL after ``timeout`` seconds; the built-in image's ``sleep`` ignores SIGTERM, so
    ``timeout=0`` saves the wait) and starts it again in a new network namespace.

    Afterwards the Container holds what Docker reports: its new init process, its addresses
    and its published ports (a port Docker picked may change). The ``routes=`` it was created
    with are added again, as an entrypoint that adds them would; routes added later with
    ``add_route()`` are gone, as after ``docker restart``. A container the plugin did not
    create is restarted only with ``allow_existing=True``.

    Example::

        dockernet.restart(db, timeout=0)
        assert db.ip(lan) == IPv4Address("10.199.3.5")  # the static address survived
    """
    need(container, Container, "restart(): the container")
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise ValueError(f"restart(): timeout must be whole seconds >= 0, got {timeout!r}")
    check_may_change(container, "restart", allow_existing)
    cid = container.id
    try:
        with _firewall_written(ctx, container, f"restart {container.name}"):
            ctx.client.api.restart(cid, timeout=timeout)
    except docker.errors.APIError as exc:
        raise ContainerStartError(f"docker did not restart {container}: {exc.explanation}") from exc
    _follow(ctx, container, list(container.networks))
    if container.network_mode:
        return
    pid = container.pid
    for destination, gateway in ctx.routes.get(container.alias, ()):
        add_in_namespace(str(container), pid, destination, gateway)
    if container.addresses6:
        wait_for_dad(pid, str(container))


def _firewall_written(
    ctx: BuildContext, container: Container, what: str
) -> contextlib.AbstractContextManager[None]:
    """The machine's firewall lock, held for writing while Docker rewrites rules for the
    container (``containers.rewrites_firewall``: every change here is on a bridge)."""
    rewrites = rewrites_firewall(ctx.client, publishes=bool(container.ports), bridged=True)
    return machine_lock().writing(what, when=rewrites)


def _follow(ctx: BuildContext, container: Container, networks: Sequence[Network]) -> None:
    """Set the container's values to what Docker reports now."""
    follow(ctx.client, container, ctx.client.api.inspect_container(container.id), networks)
