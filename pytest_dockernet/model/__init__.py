"""The values a test holds: networks, containers, upstreams, and the registry that names them.

They know nothing of the factory that made them. A value reaches what its checks need through
its ``registry``: the engine client, the other resources of the same DockerNet, and the
outside-traffic policy. Argument types and their parsing are in ``model.arguments``.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

import docker

from ..engine.client import exit_report
from ..errors import ContainerStartError
from .messages import no_namespace, not_published
from .messages import shown as shown  # re-exported: the name of a value in messages
from .started import Started as Started  # re-exported: a Container holds one


@dataclass(eq=False)
class Registry:
    """The resources one DockerNet holds, by the names the test gave, and the engine they are on.

    It is the scope in which a name in an assertion means something, and it is cleared when
    the DockerNet closes.
    """

    client: docker.DockerClient = field(repr=False)
    allow_external: bool = False
    """Probes may target addresses outside every Docker network (``--dockernet-allow-external``)."""
    networks: dict[str, Network] = field(default_factory=dict)
    containers: dict[str, Container] = field(default_factory=dict)
    upstreams: dict[str, Upstream] = field(default_factory=dict)
    repeated_probes: int = 0
    """Probes repeated because firewall rules they depended on were deleted while they ran."""

    @functools.cached_property
    def engine_info(self) -> dict[str, Any]:
        """``docker info`` of the engine, read once: it names the firewall backend."""
        info: dict[str, Any] = self.client.info()
        return info

    def name_taken(self, name: str) -> str | None:
        """What already answers to ``name`` ("container" or "upstream"), or None."""
        if name in self.containers:
            return "container"
        if name in self.upstreams:
            return "upstream"
        return None

    def upstream_of(self, container: Container) -> Upstream | None:
        return next((u for u in self.upstreams.values() if u.container is container), None)

    def holder_of(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> Container | None:
        """The container (an upstream's included) that holds ``ip``, if any of this registry's."""
        for container in self.containers.values():
            if ip in container.addresses.values() or ip in container.addresses6.values():
                return container
        return next((u.container for u in self.upstreams.values() if u.address == ip), None)

    def await_starts(self) -> None:
        """Wait until no container of this registry is still starting (failed ones included:
        their errors surface where they are used)."""
        starting = [c.starting for c in list(self.containers.values()) if c.starting is not None]
        wait(starting)

    def clear(self) -> None:
        self.containers.clear()
        self.upstreams.clear()
        self.networks.clear()


@dataclass(eq=False)
class Network:
    """A user-defined bridge network: ``dockernet.network()``, ``existing_network()``, or a
    Compose project's (``stack.networks["back"]``).

    Example:
        ```python
        net = dockernet.network("lan", ipv6=True)
        net.subnet, net.gateway  # IPv4Network('10.199.3.0/24'), IPv4Address('10.199.3.1')
        net.subnet6  # IPv6Network('fd64:6e65:7400:3dbd::/64'), gateway6 its ::1
        net.bridge  # 'br-3f2a9c1d0e4b', the host's interface
        assert_bridge_members(net, [dockernet.container("c", [net])])
        ```
    """

    alias: str
    """The name the test gave."""
    name: str
    """Docker's name for it: unique per run."""
    id: str
    """Docker's id of the network."""
    subnet: ipaddress.IPv4Network | None
    """Its IPv4 subnet, e.g. ``10.199.3.0/24``; None on an IPv6-only network (``ipv4=False``)."""
    gateway: ipaddress.IPv4Address | None
    """The bridge's address on the host (the first host address by default), or None."""
    bridge: str
    """The host's bridge interface, ``br-`` and the first 12 hex digits of the id by default."""
    internal: bool
    """Made with ``internal=True`` (``docker network create --internal``): no way out."""
    masquerade: bool
    """Docker masquerades what leaves the host from it (``masquerade=False`` turns that off)."""
    registry: Registry = field(repr=False)
    """The resources of the DockerNet it belongs to (internal)."""
    existing: bool = False
    """Not created by the plugin (``existing_network``, a compose project it attached to):
    never removed or changed."""
    routable: bool = False
    """Made with ``network(routable=True)``: its bridge is trusted by, and trusts, the other
    routable networks of its DockerNet (``topology.networks``)."""
    known_as: str | None = None
    """Its name in the compose file that made it (``back``), when Docker's name is another."""
    subnet6: ipaddress.IPv6Network | None = None
    """Its IPv6 subnet (``network(ipv6=True)``), None on a network without IPv6."""
    gateway6: ipaddress.IPv6Address | None = None
    """Its IPv6 gateway, the bridge's address (``::1`` of the subnet by default), or None."""

    @property
    def shown(self) -> str:
        """How messages name it: ``'lan'``; ``'back' (dn-1a2b-shop_back)`` for a compose
        network, its name in the file beside Docker's."""
        return shown(self.alias, self.known_as, self.name)

    @property
    def subnets(self) -> str:
        """Its subnets as messages show them: ``10.199.3.0/24``, ``10.199.3.0/24 and fd64:…/64``."""
        return " and ".join(str(s) for s in (self.subnet, self.subnet6) if s is not None)

    def __repr__(self) -> str:
        return f"<Network {self.alias} {self.subnets} bridge={self.bridge}>"

    def __str__(self) -> str:
        return f"network {self.shown} ({self.subnets}, bridge {self.bridge})"


@dataclass(eq=False)
class Container:
    """A container with its address on each network.

    It is handed out as soon as it is asked for, while Docker creates and starts it in the
    background: what needs the running container (its id, its namespace, its published ports)
    waits for exactly that, and an error of the start surfaces there, or at the end of the test.
    Addresses the plugin allocates are known at once.
    Made by ``container()``/``router()``, read by ``existing_container()``, or a Compose
    service (``stack.services["web"]``).

    Example:
        ```python
        web = dockernet.container("web", [net], ports={8080: None})
        web.ip(net)  # IPv4Address('10.199.3.2'): known at once
        web.id  # waits until Docker started it
        web.published(8080)  # (IPv4Address('0.0.0.0'), 32769)
        assert_reachable(client, web)
        ```
    """

    alias: str
    """The name the test gave; other containers resolve it on every shared network."""
    name: str
    """Docker's name for it: unique per run."""
    addresses: dict[Network, ipaddress.IPv4Address]
    """Its address on each network, in the order the networks were given."""
    registry: Registry = field(repr=False)
    """The resources of the DockerNet it belongs to (internal)."""
    is_router: bool = False
    """Made by ``dockernet.router()``: it forwards between its networks."""
    existing: bool = False
    """Not created by the plugin (``existing_container``, a compose project it attached to):
    never removed, and changed (a route, a listener) only when the test says so."""
    state: Started | None = field(default=None, repr=False)
    """Known at once for a container read from Docker; else set by ``starting``."""
    starting: Future[Started] | None = field(default=None, repr=False)
    """The background start (with its routes), when the plugin creates the container."""
    failure_seen: bool = field(default=False, repr=False)
    """The start failed and the test has been told (so the end of the test need not)."""
    network_mode: str = ""
    """Set when the container has no network namespace of its own: ``host``, or whose it
    shares, as its user wrote it (``service:web`` in a Compose project, else
    ``container:<name>``). Empty for every container with its own, the plugin's included."""
    service: str = ""
    """The Compose service it runs, e.g. ``web``, for a container of a Compose project."""
    known_as: str | None = field(default=None, repr=False)
    """Its compose service (``web``; ``web-2`` for a later replica), when it is one."""
    addresses6: dict[Network, ipaddress.IPv6Address] = field(default_factory=dict)
    """Its IPv6 address on each of its networks that has IPv6."""
    attached: tuple[Network, ...] = field(default=(), repr=False)
    """Its networks in the order they were given, where that order is not the one of
    ``addresses`` (an IPv6-only network has no IPv4 address to list there)."""

    @property
    def shown(self) -> str:
        """How messages name it: ``'web'``; ``'web' (dn-1a2b-shop-web-1)`` for a compose
        service, beside Docker's name."""
        return shown(self.alias, self.known_as, self.name)

    def wait_started(self) -> Started:
        """What Docker reported at start, once the container runs with its routes; the start's
        own error if it failed."""
        if self.starting is not None:
            try:
                return self.starting.result()
            except BaseException:
                self.failure_seen = True
                raise
        if self.state is None:
            raise ValueError(f"{self} was never started")
        return self.state

    @property
    def id(self) -> str:
        """Docker's id of the container; waits until it runs (raising its start's error).

        Example:
            ```python
            web = dockernet.container("web", [net])
            client.containers.get(web.id)  # docker-py's view of the same container
            ```
        """
        return self.wait_started().id

    @property
    def init_pid(self) -> int:
        """The pid of its init process as Docker reported it at start; waits until it runs."""
        return self.wait_started().init_pid

    @property
    def ports(self) -> dict[tuple[int, str], tuple[ipaddress.IPv4Address, int]]:
        """Every published port: ``(container port, proto)`` to the host's IPv4 address and
        port Docker bound (``ports=``); empty when nothing is published. Waits until it runs.

        Example:
            ```python
            web = dockernet.container("web", [net], ports={8080: None, "53/udp": 5353})
            web.ports  # {(8080, 'tcp'): (IPv4Address('0.0.0.0'), 32769),
            #             (53, 'udp'): (IPv4Address('0.0.0.0'), 5353)}
            ```
        """
        return self.wait_started().ports

    def ip(self, network: Network) -> ipaddress.IPv4Address:
        """This container's address on ``network`` (on a network the plugin did not create,
        Docker picks it: known once the container runs).

        A ValueError names the networks it is on when ``network`` is not one of them.

        Example:
            ```python
            h1 = dockernet.container("h1", {a: "10.231.1.4"})
            assert h1.ip(a) == ipaddress.IPv4Address("10.231.1.4")
            ```
        """
        self._check_on(network)
        try:
            return self.addresses[network]
        except KeyError:
            only6 = f"{self} has no IPv4 address on {network}, which is IPv6-only: use ip6()"
            raise ValueError(only6) from None

    def _check_on(self, network: Network) -> None:
        """A ValueError naming the networks it is on when ``network`` is not one of them."""
        if self.starting is not None and network not in {*self.addresses, *self.addresses6}:
            self.wait_started()  # on a network the plugin did not create, Docker picks them
        if network not in self.networks:
            joined = ", ".join(n.shown for n in self.networks) or "none"
            raise ValueError(f"{self} is not on network {network.shown} (it is on: {joined})")

    def ip6(self, network: Network) -> ipaddress.IPv6Address:
        """This container's IPv6 address on ``network``; a ValueError when it has none there
        (not on it, or the network has no IPv6).

        Example:
            ```python
            h1 = dockernet.container("h1", {a: ("10.231.1.4", "fd00:a::4")})
            assert h1.ip6(a) == ipaddress.IPv6Address("fd00:a::4")
            ```
        """
        self._check_on(network)
        if network not in self.addresses6 and self.starting is not None:
            self.wait_started()
        found = self.addresses6.get(network)
        if found is None:
            raise ValueError(
                f"{self} has no IPv6 address on network {network.shown}: create the network "
                "with ipv6=True (or subnet6=...)"
            )
        return found

    def check_own_namespace(self) -> None:
        """A ValueError naming the container (its Compose service), its ``network_mode`` and
        what to check instead, when it has no network namespace of its own: a check that
        would enter it, or probe it as a destination, has nothing to mean.

        E.g. ``stack.services["agent"].check_own_namespace()`` raises for a service with
        ``network_mode: host``, and returns for one on a network of its project.
        """
        if not self.network_mode:
            return
        who = f"compose service {self.service!r} ({self.name})" if self.service else str(self)
        raise ValueError(no_namespace(who, self.network_mode))

    @property
    def pid(self) -> int:
        """The init process, whose network namespace the assertions read; it must be alive
        and have a namespace of its own (``check_own_namespace``).

        A command that exits at once may still look running when start() returns; reading
        the namespace of a dead container then fails here, with its exit code and logs.
        """
        self.check_own_namespace()
        # Any container of the DockerNet may be on the path (a router, a name to resolve):
        # whatever reads a namespace waits until none is still starting.
        self.registry.await_starts()
        if not os.path.exists(f"/proc/{self.init_pid}/ns/net"):
            raise ContainerStartError(exit_report(self.registry.client, self.alias, self.id))
        return self.init_pid

    def published(
        self, port: int, proto: str = "tcp", family: int = 4
    ) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]:
        """The host's (address, port) that Docker bound for ``port``/``proto`` (``ports=``):
        the IPv4 binding, as ``docker port`` shows it (0.0.0.0 means every address); the IPv6
        one (``::``) with ``family=6``.

        A port that was not published raises a ValueError listing those that were.

        Example:
            ```python
            web = dockernet.container("web", [net], ports={8080: ("127.0.0.1", None)})
            host_ip, host_port = web.published(8080)  # (IPv4Address('127.0.0.1'), 32768)
            ```
        """
        if proto not in ("tcp", "udp"):
            raise ValueError(f"proto must be 'tcp' or 'udp', got {proto!r}")
        bound = self.ports if family == 4 else self.wait_started().ports6
        found = None if isinstance(port, bool) else bound.get((port, proto))
        if found is None:
            over = "" if family == 4 else " over IPv6"
            raise ValueError(self.not_published(port, proto) + over)
        return found

    def not_published(self, port: object, proto: str) -> str:
        """That ``port``/``proto`` is not published, what is, and how to publish it.

        >>> web.not_published(9000, "tcp")  # doctest: +SKIP
        "container 'web' does not publish port 9000/tcp (it publishes: 8080/tcp on
        0.0.0.0:32769); pass ports={9000: None} to container()"
        """
        started = self.wait_started()
        bound = (started.ports, started.ports6)
        return not_published(str(self), port, proto, bound, self.known_as)

    @property
    def host(self) -> Any:
        """A testinfra ``Host`` over this container (``host.file(...)``, ``host.process``,
        ``host.socket(...)``, ...): the ``testinfra`` extra, and a shell in the image.

        Example:
            ```python
            box = dockernet.container("box", [net])
            assert box.host.file("/etc/hostname").content_string.strip() == "box"
            ```
        """
        from ..engine.hosts import host_over  # an optional dependency: imported on first use

        return host_over(self.id)

    @property
    def networks(self) -> tuple[Network, ...]:
        """The networks it is on, in the order they were given (eth0 is on the first).

        Example:
            ```python
            api = dockernet.container("api", [front, back])
            assert api.networks == (front, back)
            ```
        """
        return tuple(dict.fromkeys([*self.attached, *self.addresses, *self.addresses6]))

    def shared_networks(self, other: Container) -> tuple[Network, ...]:
        """The networks this container and ``other`` are both on, in this one's order.

        Example:
            ```python
            assert api.shared_networks(web) == (front,)
            ```
        """
        return tuple(n for n in self.networks if n in other.networks)

    def __repr__(self) -> str:
        addrs = ", ".join(f"{n.alias}={ip}" for n, ip in self.addresses.items())
        if self.network_mode:
            addrs = f"network_mode={self.network_mode}"  # it holds no address of its own
        return f"<Container {self.alias} {addrs}>"

    def __str__(self) -> str:
        return f"container {self.shown}"


@dataclass(frozen=True)
class Upstream:
    """A host outside every Docker network, reached from the host's routing table only:
    ``dockernet.upstream()``, "the outside world" (the seed's example.org) of the machine.

    Example:
        ```python
        internet = dockernet.upstream("internet")
        c = dockernet.container("c", [dockernet.network("lan")])
        assert_snat(c, internet)  # it sees c's packets from internet.host_address
        ```
    """

    name: str
    """The name the test gave; probes take it as a destination."""
    address: ipaddress.IPv4Address
    """The upstream's own address, in its namespace."""
    host_address: ipaddress.IPv4Address
    """The host's address on the link facing the upstream: what SNAT must rewrite sources to."""
    subnet: ipaddress.IPv4Network
    """The ``/30`` of the link between the host and the upstream, taken from the pool."""
    host_interface: str
    """The host's end of the link: ``dnu`` and 8 hex digits."""
    container: Container
    """The container on Docker's network ``none`` whose namespace it is."""
    address6: ipaddress.IPv6Address | None = None
    """Its IPv6 address (``::2`` of ``subnet6``): NAT66, or its absence, is seen from it."""
    host_address6: ipaddress.IPv6Address | None = None
    """The host's IPv6 address on the link (``::1``): what NAT66 rewrites sources to."""
    subnet6: ipaddress.IPv6Network | None = None
    """The ``/64`` of the link over IPv6, taken from the IPv6 pool."""

    @property
    def pid(self) -> int:
        """The init process of its container, whose network namespace is the upstream's."""
        return self.container.pid

    def __repr__(self) -> str:
        return (
            f"<Upstream {self.name} {self.address} host={self.host_interface} {self.host_address}>"
        )

    def __str__(self) -> str:
        return f"upstream {self.name!r} ({self.address}, via host {self.host_interface})"
