"""The DockerNet factory: throwaway bridge networks, containers and routers, removed in one place.

A ``DockerNet`` is usable without pytest (``with DockerNet(client) as dn: ...``); the fixtures
only create one per test (or per session) and close it. Everything it creates is labelled with
the run's identity and recorded before anything else can fail, so ``close()`` removes all of it.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import docker
import docker.errors
import docker.types

from . import addressing, images, labels
from .errors import ContainerStartError, DockernetError
from .netns import iproute
from .observe.routes import DEFAULT as DEFAULT_ROUTE
from .sweep import is_stuck
from .upstream import Upstream, create_upstream

if TYPE_CHECKING:
    from .trace import Trace, TraceTarget

MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
REMOVE_ATTEMPTS = 6


@dataclass(eq=False)
class Network:
    """A user-defined bridge network the plugin created."""

    alias: str
    """The name the test gave."""
    name: str
    """Docker's name for it: unique per run."""
    id: str
    subnet: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    bridge: str
    """The host's bridge interface, ``br-`` and the first 12 hex digits of the id by default."""
    internal: bool
    masquerade: bool
    owner: DockerNet = field(repr=False)
    """The factory that created it (and will remove it)."""

    def __repr__(self) -> str:
        return f"<Network {self.alias} {self.subnet} bridge={self.bridge}>"

    def __str__(self) -> str:
        return f"network {self.alias!r} ({self.subnet}, bridge {self.bridge})"


@dataclass(eq=False)
class Container:
    """A running container the plugin created, with its address on each network."""

    alias: str
    """The name the test gave; other containers resolve it on every shared network."""
    name: str
    """Docker's name for it: unique per run."""
    id: str
    init_pid: int
    """The init process as Docker reported it at start."""
    addresses: dict[Network, ipaddress.IPv4Address]
    owner: DockerNet = field(repr=False)
    is_router: bool = False

    def ip(self, network: Network) -> ipaddress.IPv4Address:
        """This container's address on ``network``."""
        if not self.id:
            raise ValueError(
                f"{self} is still starting: use it after the `with dockernet.parallel()` block"
            )
        try:
            return self.addresses[network]
        except KeyError:
            joined = ", ".join(n.alias for n in self.addresses) or "none"
            raise ValueError(
                f"container {self.alias!r} is not on network {network.alias!r} (it is on: {joined})"
            ) from None

    @property
    def pid(self) -> int:
        """The init process, whose network namespace the assertions read; it must be alive.

        A command that exits at once may still look running when start() returns; reading
        the namespace of a dead container then fails here, with its exit code and logs.
        """
        if not self.id:
            raise ValueError(
                f"{self} is still starting: use it after the `with dockernet.parallel()` block"
            )
        if not os.path.exists(f"/proc/{self.init_pid}/ns/net"):
            raise ContainerStartError(self.owner.exit_report(self.alias, self.id))
        return self.init_pid

    @property
    def networks(self) -> tuple[Network, ...]:
        return tuple(self.addresses)

    def shared_networks(self, other: Container) -> tuple[Network, ...]:
        return tuple(n for n in self.addresses if n in other.addresses)

    def __repr__(self) -> str:
        addrs = ", ".join(f"{n.alias}={ip}" for n, ip in self.addresses.items())
        return f"<Container {self.alias} {addrs}>"

    def __str__(self) -> str:
        return f"container {self.alias!r}"


AddressArg: TypeAlias = "str | ipaddress.IPv4Address | None"
NetworksArg: TypeAlias = "Network | Sequence[Network] | Mapping[Network, AddressArg]"
ViaArg: TypeAlias = "str | ipaddress.IPv4Address | Container"


MAX_PARALLEL = 8
"""Concurrent container starts: dockerd serialises much of the work; more gains nothing."""


@dataclass
class _PendingContainer:
    """A container declared in a parallel() block, started when the block ends."""

    placeholder: Container
    image: str
    command: str | Sequence[str] | None
    env: Mapping[str, str] | None
    cap_add: Iterable[str]
    sysctls: Mapping[str, str] | None
    attach: list[tuple[Network, ipaddress.IPv4Address | None]]
    routes: Mapping[str, ViaArg] | None


def _normalise_networks(
    networks: NetworksArg, what: str
) -> dict[Network, str | ipaddress.IPv4Address | None]:
    if isinstance(networks, Network):
        return {networks: None}
    if isinstance(networks, Mapping):
        result = dict(networks)
    elif isinstance(networks, (list, tuple)):
        result = dict.fromkeys(networks)
        if len(result) != len(networks):
            raise ValueError(f"{what}: a network is listed twice in networks={networks!r}")
    else:
        raise TypeError(
            f"{what}: networks= takes a Network, a list of them or a dict "
            f"{{Network: ip or None}}, got {type(networks).__name__}"
        )
    for net in result:
        if not isinstance(net, Network):
            raise TypeError(f"{what}: networks= holds {net!r}, which is not a Network")
    if not result:
        raise ValueError(f"{what}: networks= is empty; give at least one Network")
    return result


class DockerNet:
    """Creates networks and containers for one test (or one session) and removes them all."""

    def __init__(
        self,
        client: docker.DockerClient,
        identity: labels.RunIdentity | None = None,
        *,
        image: str | None = None,
        pool: str = addressing.DEFAULT_POOL,
        prefix: int = addressing.DEFAULT_PREFIX,
        scope: str = "",
        keep: bool = False,
        allow_external: bool = False,
        settle: Callable[[], None] | None = None,
    ) -> None:
        self.client = client
        self.identity = identity or labels.RunIdentity.current()
        self._image = image
        self.pool = addressing.parse_subnet(pool, "subnet pool")
        self.prefix = prefix
        self.scope = scope
        self.keep = keep
        self.allow_external = allow_external
        self._settle = settle
        """Waits for other DockerNets' background teardowns (they may hold a fixed subnet)."""
        self.networks: dict[str, Network] = {}
        self.containers: dict[str, Container] = {}
        self.upstreams: dict[str, Upstream] = {}
        self._created_networks: list[str] = []
        self._created_containers: list[str] = []
        self.leftovers: list[str] = []
        """What close() could not remove (reported, and swept by a later run)."""
        self._pending: list[_PendingContainer] | None = None

    # -- naming ---------------------------------------------------------------------------

    def _docker_name(self, name: str) -> str:
        stem = f"{self.scope}-{name}" if self.scope else name
        return self.identity.docker_name(stem)

    def _labels(self, name: str) -> dict[str, str]:
        return self.identity.labels(name)

    @functools.cached_property
    def engine_info(self) -> dict[str, Any]:
        """``docker info`` of the engine, read once: it names the firewall backend."""
        info: dict[str, Any] = self.client.info()
        return info

    @property
    def image(self) -> str:
        """The image containers get when the test names none: built locally on first use."""
        if self._image is None:
            self._image = images.ensure_default_image(self.client)
        return self._image

    # -- networks -------------------------------------------------------------------------

    def network(
        self,
        name: str,
        *,
        subnet: str | ipaddress.IPv4Network | None = None,
        gateway: str | ipaddress.IPv4Address | None = None,
        internal: bool = False,
        masquerade: bool = True,
        options: Mapping[str, str] | None = None,
    ) -> Network:
        """Create a user-defined bridge network (``docker network create``).

        Without ``subnet`` one is taken from the pool that clashes with no Docker network and
        no host route; with one, a clash is an error naming who holds the subnet.
        """
        labels.check_name(name, "network")
        if name in self.networks:
            raise ValueError(f"network {name!r} already exists in this test: pick another name")
        wanted = addressing.parse_subnet(subnet) if subnet is not None else None
        gw = addressing.parse_address(gateway, "gateway") if gateway is not None else None
        if gw is not None and wanted is None:
            raise ValueError(f"gateway={gw} needs subnet= too, so that it can be checked")
        if wanted is not None and gw is not None:
            addressing.check_host_address(gw, wanted, "gateway")
        opts = dict(options or {})
        if not masquerade:
            opts[MASQUERADE_OPTION] = "false"
        elif opts.get(MASQUERADE_OPTION, "true").lower() == "false":
            raise ValueError(
                f"options={{{MASQUERADE_OPTION!r}: 'false'}} contradicts masquerade=True: "
                "pass masquerade=False instead"
            )

        used = addressing.occupied(self.client)
        if wanted is not None:
            holder = addressing.clash(wanted, used)
            if holder is not None and self._settle is not None:
                self._settle()  # it may be a finished test's network, still being removed
                used = addressing.occupied(self.client)
                holder = addressing.clash(wanted, used)
            if holder is not None:
                raise ValueError(
                    f"subnet {wanted} for network {name!r} overlaps {holder.subnet} of "
                    f"{holder.owner}: pick a free subnet, or leave subnet= unset to get one"
                )
            tries = [wanted]
        else:
            tries = [
                s
                for s in addressing.candidates(self.pool, self.prefix)
                if addressing.clash(s, used) is None
            ]
            if not tries:
                raise DockernetError(
                    f"no free /{self.prefix} left in the pool {self.pool}: every subnet overlaps "
                    "a Docker network or a host route; widen --dockernet-pool, or run "
                    "`pytest --dockernet-sweep` if old runs leaked networks"
                )
        docker_name = self._docker_name(name)
        for candidate in tries:
            gw_here = gw or next(candidate.hosts())
            ipam = docker.types.IPAMConfig(
                pool_configs=[docker.types.IPAMPool(subnet=str(candidate), gateway=str(gw_here))]
            )
            try:
                created = self.client.api.create_network(
                    docker_name,
                    driver="bridge",
                    ipam=ipam,
                    internal=internal,
                    labels=self._labels(name),
                    options=opts,
                    check_duplicate=True,
                )
            except docker.errors.APIError as exc:
                # Another process took the subnet between our look and Docker's: try the next.
                if wanted is None and "overlap" in str(exc).lower():
                    continue
                raise DockernetError(
                    f"docker refused network {name!r} ({candidate}): {exc.explanation}"
                ) from exc
            except BaseException:  # Ctrl-C while Docker was creating it: adopt it by name
                self._adopt("network", docker_name)
                raise
            net_id = created["Id"]
            self._created_networks.append(net_id)
            net = Network(
                alias=name,
                name=docker_name,
                id=net_id,
                subnet=candidate,
                gateway=gw_here,
                bridge=opts.get(BRIDGE_NAME_OPTION, f"br-{net_id[:12]}"),
                internal=internal,
                masquerade=masquerade,
                owner=self,
            )
            self.networks[name] = net
            return net
        raise DockernetError(
            f"every free subnet of the pool {self.pool} was taken by other processes while "
            f"creating network {name!r}: widen --dockernet-pool"
        )

    # -- containers -----------------------------------------------------------------------

    def container(
        self,
        name: str,
        networks: NetworksArg,
        *,
        image: str | None = None,
        command: str | Sequence[str] | None = None,
        cap_add: Iterable[str] = (),
        sysctls: Mapping[str, str] | None = None,
        routes: Mapping[str, ViaArg] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Container:
        """Start a container on ``networks`` (``docker run --net``) and wait until it runs.

        ``routes`` maps a destination ("default" or a CIDR) to a gateway (an address or a
        Container); they are added from the host, so the image needs no ``ip`` tool.
        """
        labels.check_name(name, "container")
        if name in self.containers or name in self.upstreams:
            what = "container" if name in self.containers else "upstream"
            raise ValueError(f"{what} {name!r} already exists in this test: pick another name")
        wanted = _normalise_networks(networks, f"container {name!r}")
        for net in wanted:
            if self.networks.get(net.alias) is not net:
                raise ValueError(f"container {name!r}: {net} was not created by this DockerNet")
        static = self._static_addresses(name, wanted)
        image = images.check_image(self.client, image) if image is not None else self.image
        attach = [(n, static[n]) for n in wanted]
        if self._pending is not None:
            for dst in routes or {}:
                parse_destination(dst)
            placeholder = Container(
                alias=name,
                name=self._docker_name(name),
                id="",
                init_pid=0,
                addresses={n: ip for n, ip in attach if ip is not None},
                owner=self,
            )
            self.containers[name] = placeholder
            self._pending.append(
                _PendingContainer(
                    placeholder, image, command, env, cap_add, sysctls, attach, routes
                )
            )
            return placeholder
        planned_routes = [
            self._plan_route(name, list(wanted), dst, via) for dst, via in (routes or {}).items()
        ]
        container = self._launch(name, image, command, env, cap_add, sysctls, attach)
        self.containers[name] = container
        for destination, gateway in planned_routes:
            self._add_route(container, destination, gateway)
        return container

    @contextlib.contextmanager
    def parallel(self) -> Iterator[None]:
        """Start the containers declared in the block concurrently; all run when it ends.

        Container start is most of a topology's set-up time, and independent starts overlap.
        Inside the block the containers are placeholders: use them (addresses, routes via
        them) after it. A container that fails to start raises at the end of the block.
        """
        if self._pending is not None:
            raise RuntimeError("dockernet.parallel() blocks do not nest")
        self._pending = []
        try:
            yield
            pending = self._pending
        finally:
            self._pending = None
        self._start_pending(pending)

    def _start_pending(self, pending: list[_PendingContainer]) -> None:
        if not pending:
            return

        def start(p: _PendingContainer) -> Container:
            return self._launch(
                p.placeholder.alias, p.image, p.command, p.env, p.cap_add, p.sysctls, p.attach
            )

        with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(pending))) as pool:
            futures = [pool.submit(start, p) for p in pending]
        failures = []
        for p, future in zip(pending, futures, strict=True):
            error = future.exception()
            if error is not None:
                del self.containers[p.placeholder.alias]
                failures.append(error)
                continue
            started = future.result()
            p.placeholder.id, p.placeholder.init_pid = started.id, started.init_pid
            p.placeholder.addresses = started.addresses
        if failures:
            raise failures[0]
        for p in pending:
            for dst, via in (p.routes or {}).items():
                net, gateway = self._plan_route(
                    p.placeholder.alias, list(p.placeholder.addresses), dst, via
                )
                self._add_route(p.placeholder, net, gateway)

    def _launch(
        self,
        name: str,
        image: str,
        command: str | Sequence[str] | None,
        env: Mapping[str, str] | None,
        cap_add: Iterable[str],
        sysctls: Mapping[str, str] | None,
        attach: Sequence[tuple[Network, ipaddress.IPv4Address | None]],
    ) -> Container:
        """Create, attach and start one labelled container; with no networks, network "none".

        The id is recorded before anything else can fail, so close() removes it regardless.
        """
        cmd = ["/bin/sh", "-c", command] if isinstance(command, str) else command
        docker_name = self._docker_name(name)
        api = self.client.api
        first = attach[0] if attach else None
        host_config = api.create_host_config(
            network_mode=first[0].name if first else "none",
            cap_add=sorted(set(cap_add)) or None,
            sysctls=dict(sysctls) if sysctls else None,
        )
        endpoints = {}
        if first:
            endpoints[first[0].name] = api.create_endpoint_config(
                ipv4_address=str(first[1]) if first[1] else None, aliases=[name]
            )
        try:
            created = api.create_container(
                image,
                command=list(cmd) if cmd else None,
                name=docker_name,
                hostname=name,
                labels=self._labels(name),
                environment=dict(env) if env else None,
                host_config=host_config,
                # types-docker says EndpointConfig; docker-py takes {network: EndpointConfig}.
                networking_config=docker.types.NetworkingConfig(endpoints) if endpoints else None,  # type: ignore[arg-type]
            )
        except docker.errors.APIError as exc:
            raise DockernetError(f"docker refused container {name!r}: {exc.explanation}") from exc
        except BaseException:  # Ctrl-C while Docker was creating it: adopt it by name
            self._adopt("container", docker_name)
            raise
        cid = created["Id"]
        self._created_containers.append(cid)
        try:
            for net, ip in attach[1:]:
                api.connect_container_to_network(
                    cid, net.id, aliases=[name], ipv4_address=str(ip) if ip else None
                )
            api.start(cid)
        except docker.errors.APIError as exc:
            raise ContainerStartError(
                f"container {name!r} ({image}) did not start: {exc.explanation}"
            ) from exc
        return self._running(name, docker_name, cid, [net for net, _ in attach])

    def router(self, name: str, networks: NetworksArg, **kwargs: Any) -> Container:
        """A container on two or more networks that forwards between them.

        It gets NET_ADMIN and ``net.ipv4.ip_forward=1`` (namespaced: the host's sysctl is
        untouched), as the seed's router does.
        """
        wanted = _normalise_networks(networks, f"router {name!r}")
        if len(wanted) < 2:
            raise ValueError(
                f"router {name!r} is on {len(wanted)} network: a router needs two or more "
                "networks to forward between"
            )
        cap_add = {"NET_ADMIN", *kwargs.pop("cap_add", ())}
        sysctls = {"net.ipv4.ip_forward": "1", **kwargs.pop("sysctls", {})}
        router = self.container(name, wanted, cap_add=cap_add, sysctls=sysctls, **kwargs)
        router.is_router = True
        return router

    def add_route(
        self, container: Container, dst: str, via: ViaArg | None = None, *, dev: str | None = None
    ) -> None:
        """Add a static route in ``container`` from the host (``ip route add`` without ``ip``).

        ``via`` is an address or a Container, whose address on a network shared with
        ``container`` is used. ``dst`` "default" replaces the default route.
        """
        if not isinstance(container, Container):
            raise TypeError(f"add_route() takes a Container, got {container!r}")
        if via is None and dev is None:
            raise ValueError("add_route() needs via= (a gateway) or dev= (a link route)")
        network, gateway = (
            self._plan_route(container.alias, list(container.addresses), dst, via)
            if via is not None
            else (parse_destination(dst), None)
        )
        self._add_route(container, network, gateway, dev=dev)

    def _plan_route(
        self, name: str, on: list[Network], dst: str, via: ViaArg | None
    ) -> tuple[ipaddress.IPv4Network, ipaddress.IPv4Address]:
        network = parse_destination(dst)
        if isinstance(via, Container):
            shared = [n for n in on if n in via.addresses]
            if not shared:
                raise ValueError(
                    f"route {dst} for {name!r} via {via}: they share no network "
                    f"({name!r} is on {', '.join(n.alias for n in on)}; {via.alias!r} on "
                    f"{', '.join(n.alias for n in via.addresses)}): put them on a common network"
                )
            return network, via.addresses[shared[0]]
        gateway = addressing.parse_address(via, "via")
        if not any(gateway in n.subnet for n in on):
            raise ValueError(
                f"route {dst} for {name!r} via {gateway}: the gateway is on none of its networks "
                f"({', '.join(f'{n.alias} {n.subnet}' for n in on)}): a gateway must be directly "
                "reachable"
            )
        return network, gateway

    def _add_route(
        self,
        container: Container,
        dst: ipaddress.IPv4Network,
        gateway: ipaddress.IPv4Address | None,
        dev: str | None = None,
    ) -> None:
        with iproute(container.pid) as ipr:
            kwargs: dict[str, Any] = {"dst": str(dst)}
            if gateway is not None:
                kwargs["gateway"] = str(gateway)
            if dev is not None:
                found = ipr.link_lookup(ifname=dev)
                if not found:
                    names = [link.get_attr("IFLA_IFNAME") for link in ipr.get_links()]
                    raise ValueError(f"{container} has no interface {dev!r} (it has {names})")
                kwargs["oif"] = found[0]
            ipr.route("replace" if dst == DEFAULT_ROUTE else "add", **kwargs)

    def _static_addresses(
        self, name: str, wanted: Mapping[Network, str | ipaddress.IPv4Address | None]
    ) -> dict[Network, ipaddress.IPv4Address | None]:
        result: dict[Network, ipaddress.IPv4Address | None] = {}
        for net, value in wanted.items():
            if value is None:
                result[net] = None
                continue
            ip = addressing.check_host_address(
                addressing.parse_address(value, f"address of {name!r} on {net.alias!r}"),
                net.subnet,
                f"address of {name!r} on {net.alias!r}",
            )
            if ip == net.gateway:
                raise ValueError(
                    f"address {ip} of {name!r} on {net.alias!r} is the network's gateway: "
                    "pick another"
                )
            holder = next((c for c in self.containers.values() if c.addresses.get(net) == ip), None)
            if holder is not None:
                raise ValueError(
                    f"address {ip} on {net.alias!r} is already taken by {holder}: pick another"
                )
            result[net] = ip
        return result

    def _running(self, name: str, docker_name: str, cid: str, order: list[Network]) -> Container:
        state = self.client.api.inspect_container(cid)
        if not state["State"]["Running"]:
            raise ContainerStartError(self.exit_report(name, cid))
        attached = state["NetworkSettings"]["Networks"]
        addresses = {net: ipaddress.IPv4Address(attached[net.name]["IPAddress"]) for net in order}
        return Container(
            alias=name,
            name=docker_name,
            id=cid,
            init_pid=state["State"]["Pid"],
            addresses=addresses,
            owner=self,
        )

    def exit_report(self, name: str, cid: str) -> str:
        """Why container ``name`` is not running: exit code, Docker's error, last log lines."""
        state = self.client.api.inspect_container(cid)["State"]
        logs = self.client.api.logs(cid, tail=10).decode(errors="replace").strip()
        return (
            f"container {name!r} is not running: it exited with code {state['ExitCode']} "
            f"({state.get('Error') or 'no error from Docker'}); last log lines:\n"
            f"{logs or '(no output)'}\n"
            "Its command must keep running (the default image sleeps): check command=/image="
        )

    # -- packet paths and upstreams -------------------------------------------------------

    def trace(self, src: Container, dst: TraceTarget, *, timeout: float = 1.0) -> Trace:
        """Ping ``dst`` once from ``src`` while capturing on every interface of this DockerNet.

        Returns the request's and the reply's hops in the order the routes make them go.
        """
        from .trace import trace  # trace.py needs this module's classes at import time

        return trace(self, src, dst, timeout=timeout)

    def upstream(self, name: str = "internet", *, image: str | None = None) -> Upstream:
        """A host of our own standing for "the outside world": the only outside target needed.

        It is on no Docker network: one veth pair to the host holds a /30 of the pool.
        """
        created = create_upstream(self, name, image)
        self.upstreams[name] = created
        return created

    # -- outside-traffic guard ------------------------------------------------------------

    def check_local_target(self, ip: ipaddress.IPv4Address) -> None:
        """Refuse to probe an address that would take traffic off this machine.

        Allowed: loopback, any subnet of a Docker network on this engine, and the link of an
        upstream this DockerNet created. Anything else is sent only with ``allow_external``
        (``--dockernet-allow-external``).
        """
        if self.allow_external or ip.is_loopback:
            return
        if any(ip in net.subnet for net in self.networks.values()):
            return
        if any(ip in upstream.subnet for upstream in self.upstreams.values()):
            return
        if any(ip in o.subnet for o in addressing.docker_subnets(self.client)):
            return
        raise ValueError(
            f"{ip} lies outside every Docker network on this engine, so probing it would send "
            "traffic off this machine; pytest-dockernet refuses that unless you pass "
            "--dockernet-allow-external (or probe an address of a network the test created)"
        )

    def _adopt(self, kind: str, docker_name: str) -> None:
        """Track a resource Docker may have created although its id never reached us."""
        with contextlib.suppress(docker.errors.DockerException):
            if kind == "network":
                for net in self.client.api.networks(names=[docker_name]):
                    if net["Name"] == docker_name:
                        self._created_networks.append(net["Id"])
            else:
                found = self.client.api.containers(all=True, filters={"name": docker_name})
                for c in found:
                    if f"/{docker_name}" in c["Names"]:
                        self._created_containers.append(c["Id"])

    # -- teardown -------------------------------------------------------------------------

    def close(self) -> None:
        """Remove every container, then every network this DockerNet created. Idempotent.

        Containers go one at a time: Docker 20.10 loses endpoint-count updates when
        containers of one network are removed concurrently, and the network then stays
        forever with "active endpoints" and none attached (moby/moby#42119). The fixtures
        run this in the background, so the test does not wait for it. A network Docker
        still refuses is retried with its endpoints force-disconnected, then reported.
        """
        if self.keep:
            return
        # One at a time off the lists: an interrupt leaves the rest tracked for close_all().
        while self._created_containers:
            self._remove_container(self._created_containers[-1])
            self._created_containers.pop()
        while self._created_networks:
            self._remove_network(self._created_networks[-1])
            self._created_networks.pop()
        self.containers.clear()
        self.upstreams.clear()
        self.networks.clear()

    def _remove_container(self, cid: str) -> None:
        try:
            self.client.api.remove_container(cid, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                self.leftovers.append(f"container {cid[:12]}: {exc.explanation}")

    def _remove_network(self, net_id: str) -> None:
        delay = 0.05
        for attempt in range(REMOVE_ATTEMPTS):
            try:
                self.client.api.remove_network(net_id)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as exc:
                last = exc
                if "active endpoints" not in str(exc):
                    break
                for endpoint in self._endpoints(net_id):
                    with contextlib.suppress(docker.errors.APIError):
                        self.client.api.disconnect_container_from_network(
                            endpoint, net_id, force=True
                        )
                time.sleep(delay * (attempt + 1))
        if is_stuck(self.client, net_id, last):
            self.leftovers.append(
                f"network {net_id[:12]}: Docker reports active endpoints with no container "
                "attached (moby/moby#42119); a restart of dockerd frees it, and "
                "`pytest --dockernet-sweep` then removes it"
            )
        else:
            self.leftovers.append(
                f"network {net_id[:12]}: {last.explanation}; left for `pytest --dockernet-sweep`"
            )

    def _endpoints(self, net_id: str) -> list[str]:
        try:
            return list(self.client.api.inspect_network(net_id).get("Containers") or {})
        except docker.errors.APIError:
            return []

    def __enter__(self) -> DockerNet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parse_destination(dst: object) -> ipaddress.IPv4Network:
    """A route destination: "default" or a CIDR (a bare address means a /32)."""
    if isinstance(dst, ipaddress.IPv4Network):
        return dst
    if dst == "default":
        return DEFAULT_ROUTE
    if not isinstance(dst, str):
        raise TypeError(f"route destination must be 'default' or a CIDR str, got {dst!r}")
    return addressing.parse_subnet(dst, "route destination")
