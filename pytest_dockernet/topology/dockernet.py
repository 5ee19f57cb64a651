"""The DockerNet facade: one test's (or one session's) networks, containers, routers and
upstreams, created through the resource modules beside it and removed in one place.

A ``DockerNet`` is usable without pytest (``with DockerNet(client) as dn: ...``); the fixtures
only create one per test (or per session) and close it. Everything it creates is labelled with
the run's identity and recorded before anything else can fail, so ``close()`` removes all of it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import docker

from .. import addressing
from ..engine import labels
from ..engine.teardown import Ledger, removes_concurrently
from ..model import (
    Container,
    Destination,
    Network,
    NetworksArg,
    PortsArg,
    Registry,
    Upstream,
    ViaArg,
    normalise_networks,
    parse_destination,
)
from ..probing.destinations import check_local_target
from ..probing.trace import Trace, trace
from . import compose, containers, existing, networks, routes
from .compose import ComposeProject
from .context import BuildContext
from .listeners import Listener
from .upstreams import create_upstream
from .warm import WarmPool


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
        warm: WarmPool | None = None,
    ) -> None:
        self.client = client
        self.identity = identity or labels.RunIdentity.current()
        self.keep = keep
        self.registry = Registry(client, allow_external=allow_external)
        self._ctx = BuildContext(
            client=client,
            identity=self.identity,
            scope=scope,
            registry=self.registry,
            ledger=Ledger(client),
            pool=addressing.parse_subnet(pool, "subnet pool"),
            prefix=prefix,
            settle=settle,
            warm=warm,
        )
        self._wanted_image = image
        self._listeners: list[Listener] = []
        self._projects: list[ComposeProject] = []
        self._scratch: Path | None = None
        self.leftovers: list[str] = []
        """What close() could not remove (reported, and swept by a later run)."""

    # -- what it holds ----------------------------------------------------------------------

    @property
    def scope(self) -> str:
        return self._ctx.scope

    @property
    def pool(self) -> ipaddress.IPv4Network:
        return self._ctx.pool

    @property
    def prefix(self) -> int:
        return self._ctx.prefix

    @property
    def allow_external(self) -> bool:
        return self.registry.allow_external

    @property
    def networks(self) -> dict[str, Network]:
        return self.registry.networks

    @property
    def containers(self) -> dict[str, Container]:
        return self.registry.containers

    @property
    def upstreams(self) -> dict[str, Upstream]:
        return self.registry.upstreams

    @property
    def engine_info(self) -> dict[str, Any]:
        """``docker info`` of the engine, read once: it names the firewall backend."""
        return self.registry.engine_info

    @property
    def image(self) -> str:
        """The image containers get when the test names none: built locally on first use."""
        return self._ctx.image(self._wanted_image)

    # -- resources --------------------------------------------------------------------------

    def network(
        self,
        name: str,
        *,
        subnet: str | ipaddress.IPv4Network | None = None,
        gateway: str | ipaddress.IPv4Address | None = None,
        internal: bool = False,
        masquerade: bool = True,
        routable: bool = False,
        options: Mapping[str, str] | None = None,
    ) -> Network:
        """Create a user-defined bridge network (``docker network create``).

        Without ``subnet`` one is taken from the pool that clashes with no Docker network and
        no host route; with one, a clash is an error naming who holds the subnet.
        The network gets Docker's defaults and the ``options`` given, nothing else.
        ``routable=True`` lets this DockerNet's routers deliver into it from its other routable
        networks where Docker >= 28 would drop the packets (a host with
        ``net.bridge.bridge-nf-call-iptables=1``): its bridge is named ``dnr-<family>-<n>`` and
        ``trusted_host_interfaces`` names that family, nothing wider.

        E.g. ``a = dockernet.network("a", routable=True)`` with
        ``b = dockernet.network("b", routable=True)`` for a router between ``a`` and ``b``.
        """
        return networks.create_network(
            self._ctx,
            name,
            subnet=subnet,
            gateway=gateway,
            internal=internal,
            masquerade=masquerade,
            routable=routable,
            options=options,
        )

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
        ports: PortsArg | None = None,
    ) -> Container:
        """A container on ``networks`` (``docker run --net``), returned at once while Docker
        creates and starts it in the background: its addresses are known now, and whatever
        needs it running (an assertion, a route in it, ``.id``) waits for it. An error of the
        start is raised there, or at the end of the test.

        ``routes`` maps a destination ("default" or a CIDR) to a gateway (an address or a
        Container); they are added from the host, so the image needs no ``ip`` tool.
        ``ports`` publishes container ports (``docker run -p``): ``{8080: None}`` lets Docker
        pick the host port, ``{8080: 18080}`` fixes it, ``{"53/udp": ("127.0.0.1", None)}``
        binds loopback only; ``container.published(8080)`` tells what Docker bound.
        """
        spec = containers.plan(
            self._ctx,
            name,
            networks,
            image=image if image is not None else self._wanted_image,
            command=command,
            cap_add=cap_add,
            sysctls=sysctls,
            routes=routes,
            env=env,
            ports=ports,
        )
        return containers.start(self._ctx, spec, origin=_called_from())

    def router(self, name: str, networks: NetworksArg, **kwargs: Any) -> Container:
        """A container on two or more networks that forwards between them.

        It gets NET_ADMIN and ``net.ipv4.ip_forward=1`` (namespaced: the host's sysctl is
        untouched), as the seed's router does.
        """
        wanted = normalise_networks(networks, f"router {name!r}")
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

    def existing_network(self, name_or_id: str) -> Network:
        """A network the plugin did not create (the user's, a Compose project's), by Docker's
        name or id: every assertion reads it, the plugin's containers may join it, and it is
        never removed or changed."""
        return existing.existing_network(self.registry, name_or_id)

    def existing_container(self, name_or_id: str) -> Container:
        """A running container the plugin did not create, by Docker's name or id, with the
        bridge networks it is on: every assertion reads it; it is never removed, and routes or
        listeners go into it only with ``allow_existing=True``."""
        return existing.existing_container(self.registry, name_or_id)

    def compose(
        self,
        path: str | Path | Sequence[str | Path] | None = None,
        *,
        project: str | None = None,
        services: Sequence[str] | None = None,
        profiles: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        wait: bool = True,
        dns_sink: bool = True,
    ) -> ComposeProject:
        """A Docker Compose v2 project as a topology.

        With ``path`` (a file, a directory holding compose.yaml, or several files): brought up
        under a name carrying the run's identity (``project`` is then its readable part),
        ``--pull never``, as ``docker compose --profile P... up SERVICE...`` does: only
        ``services`` (and what they depend on) when given, a service named starting even
        behind a profile; ``profiles`` activated (``"*"``: all). With ``wait``, until every
        container runs and is healthy where it has a healthcheck; taken down (``down -v
        --remove-orphans``) with this DockerNet. ``dns_sink`` sends names Docker does not know
        to loopback, as for the plugin's containers. With only ``project``: the project already
        running under that name, never taken down.

        E.g. ``compose("deploy/compose.yaml", services=["web", "seed"], profiles=["debug"])``.
        """
        if path is None:
            if project is None:
                raise ValueError(
                    "compose() needs path= (a compose file) or project= (a running one)"
                )
            if services is not None or profiles is not None or env is not None:
                raise ValueError(
                    "services=, profiles= and env= apply when bringing a file up; "
                    "compose(project=...) attaches to a running project as it is"
                )
            return compose.attach(self.registry, project)
        if project is not None:
            readable = project
        elif isinstance(path, (str, Path)):
            where = Path(path).resolve()
            readable = where.name if where.is_dir() else where.parent.name
        else:
            readable = "compose"
        if self._scratch is None:
            self._scratch = compose.scratch_dir()
        made = compose.up(
            self.registry,
            self.identity,
            self._ctx.docker_name(readable),
            path,
            services=compose.names(services, "services"),
            profiles=compose.names(profiles, "profiles"),
            env=env,
            wait=wait,
            dns_sink=dns_sink,
            scratch=self._scratch,
        )
        self._projects.append(made)
        return made

    @contextlib.contextmanager
    def parallel(self) -> Iterator[None]:
        """Every start already runs in the background; at the end of this block, the
        containers declared in it run (a failed start raises there). Kept for suites that
        used it to overlap starts."""
        before = set(self.registry.containers)
        yield
        for name, container in list(self.registry.containers.items()):
            if name not in before:
                container.wait_started()

    def start_errors(self) -> list[BaseException]:
        """Wait for every background start; the errors of those that failed and that the test
        never saw (it did not use the container)."""
        errors = []
        for container in list(self.registry.containers.values()):
            starting = container.starting
            if starting is None or starting.cancelled():
                continue
            error = starting.exception()
            if error is not None and not container.failure_seen:
                container.failure_seen = True
                errors.append(error)
        return errors

    def add_route(
        self,
        container: Container | Upstream,
        dst: str,
        via: ViaArg | None = None,
        *,
        dev: str | None = None,
        allow_existing: bool = False,
    ) -> None:
        """Add a static route in ``container`` from the host (``ip route add`` without ``ip``).

        ``via`` is an address or a Container, whose address on a network shared with
        ``container`` is used. ``dst`` "default" replaces the default route. An Upstream
        takes routes too (say, to a routed-mode network), via the host's address on its link.
        A container the plugin did not create is changed only with ``allow_existing=True``
        (the route then stays after the test).
        """
        if isinstance(container, Container):
            _check_may_change(container, "add_route", allow_existing)
        if isinstance(container, Upstream):
            where = container.container
            if via is not None:
                gateway = addressing.parse_address(via, "via")
                if gateway not in container.subnet:
                    raise ValueError(
                        f"route {dst} for {container} via {gateway}: the gateway is not on its "
                        f"link {container.subnet}: use its host_address {container.host_address}"
                    )
                routes.add_route(str(where), where.pid, parse_destination(dst), gateway, dev=dev)
                return
        elif isinstance(container, Container):
            container.check_own_namespace()  # before a plan that would look for its networks
            where = container
        else:
            raise TypeError(f"add_route() takes a Container or an Upstream, got {container!r}")
        if via is None and dev is None:
            raise ValueError("add_route() needs via= (a gateway) or dev= (a link route)")
        if via is not None:
            destination, gateway = routes.plan_route(str(where), where.networks, dst, via)
            routes.add_route(str(where), where.pid, destination, gateway, dev=dev)
        else:
            routes.add_route(str(where), where.pid, parse_destination(dst), None, dev=dev)

    def upstream(self, name: str = "internet", *, image: str | None = None) -> Upstream:
        """A host of our own standing for "the outside world": the only outside target needed.

        It is on no Docker network: one veth pair to the host holds a /30 of the pool.
        """
        return create_upstream(self._ctx, name, image if image is not None else self._wanted_image)

    def listen(
        self, container: Container, port: int, *, proto: str = "tcp", allow_existing: bool = False
    ) -> Listener:
        """Serve ``port`` (TCP or UDP) in ``container`` from the host, until this DockerNet
        closes: it answers with one line and records each peer as it saw it. In a container
        the plugin did not create, only with ``allow_existing=True``."""
        if not isinstance(container, Container):
            raise TypeError(f"listen() takes a Container, got {container!r}")
        if container.registry is not self.registry:
            raise ValueError(f"{container} was not created by this DockerNet")
        _check_may_change(container, "listen", allow_existing)
        listener = Listener(container, port, proto)
        self._listeners.append(listener)
        return listener

    # -- observing --------------------------------------------------------------------------

    def trace(self, src: Container, dst: Destination, *, timeout: float = 1.0) -> Trace:
        """Ping ``dst`` once from ``src`` while capturing on every interface of this DockerNet.

        Returns the request's and the reply's hops in the order the routes make them go.
        """
        if isinstance(src, Container) and src.registry is not self.registry:
            raise ValueError(f"src {src} was not created by this DockerNet")
        return trace(src, dst, timeout=timeout)

    def check_local_target(self, ip: ipaddress.IPv4Address) -> None:
        """Refuse to probe an address that would take traffic off this machine."""
        check_local_target(self.registry, ip)

    # -- teardown ---------------------------------------------------------------------------

    def close(self) -> None:
        """Remove every container, then every network this DockerNet created. Idempotent.

        The fixtures run this in the background, so the test does not wait for it.
        """
        for listener in self._listeners:
            listener.close()
        self._listeners.clear()
        self._ctx.stop_starts()  # every container Docker created is in the ledger after this
        if self.keep:
            return
        problems = self._ctx.ledger.close(together=removes_concurrently(self.client))
        while self._projects:
            problems += compose.down(self.client, self._projects[-1])
            self._projects.pop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self.leftovers += [
            f"{p}; left for `pytest --dockernet-sweep`" if not p.stuck else str(p) for p in problems
        ]
        self.registry.clear()

    def __enter__(self) -> DockerNet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_may_change(container: Container, what: str, allow_existing: bool) -> None:
    """A ValueError when ``what`` would change a container the plugin did not create."""
    if container.existing and not allow_existing:
        raise ValueError(
            f"{what}() would change {container}, which the plugin did not create: pass "
            "allow_existing=True to change it anyway (the change outlives the test)"
        )


def _called_from() -> str:
    """``file:line`` of the first caller outside this package: the test's line that asked."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for frame, line in traceback.walk_stack(sys._getframe(1)):
        path = frame.f_code.co_filename
        if not path.startswith(package):
            return f"{os.path.relpath(path) if path.startswith(os.getcwd()) else path}:{line}"
    return ""
