"""The DockerNet facade: one test's (or one session's) networks, containers, routers and
upstreams, created through the resource modules beside it and removed in one place.

A ``DockerNet`` is usable without pytest (``with DockerNet(client) as dn: ...``); the fixtures
only create one per test (or per session) and close it. Everything it creates is labelled with
the run's identity and recorded before anything else can fail, so ``close()`` removes all of it.
"""

from __future__ import annotations

import inspect
import ipaddress
import types
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

import docker

from .. import addressing
from ..engine import labels
from ..engine.teardown import Ledger
from ..model import Container, Network, Registry, Upstream
from ..probing import destinations, trace
from . import (
    changes,
    compose,
    containers,
    existing,
    listeners,
    networks,
    routers,
    routes,
    starts,
    upstreams,
)
from .context import BuildContext
from .kept_networks import KeptNetworks
from .warm import WarmPool

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")


class _Method(Generic[T, P, R]):
    """A method of DockerNet that is a function of its resource's module, called with a part
    of the DockerNet (its context, its registry) first: the parameter list and the docstring
    are written once, on the function, and mypy, ``inspect.signature``, ``help()`` and the
    documentation (griffe, inspecting) see them on the method."""

    def __init__(
        self, function: Callable[Concatenate[T, P], R], part: Callable[[DockerNet], T]
    ) -> None:
        self.function = function
        self.part = part
        self.__doc__ = function.__doc__
        signature = inspect.signature(function)
        first, *rest = signature.parameters.values()
        self.__signature__ = signature.replace(
            parameters=[first.replace(name="self", annotation=first.empty), *rest]
        )

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name
        self.__qualname__ = f"{owner.__qualname__}.{name}"
        self.__module__ = owner.__module__

    @overload
    def __get__(self, dockernet: None, owner: type) -> _Method[T, P, R]: ...
    @overload
    def __get__(self, dockernet: DockerNet, owner: type) -> Callable[P, R]: ...
    def __get__(
        self, dockernet: DockerNet | None, owner: type
    ) -> _Method[T, P, R] | Callable[P, R]:
        if dockernet is None:
            return self
        return cast("Callable[P, R]", types.MethodType(self, dockernet))

    def __call__(self, dockernet: DockerNet, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(self.part(dockernet), *args, **kwargs)


def _context(dockernet: DockerNet) -> BuildContext:
    return dockernet._ctx


def _registry(dockernet: DockerNet) -> Registry:
    return dockernet.registry


class DockerNet:
    """Creates networks and containers for one test (or one session) and removes them all.

    The ``dockernet`` fixture hands one to each test; it is a plain class, usable without
    pytest.

    Example:
        ```python
        with DockerNet(docker.from_env()) as dn:
            net = dn.network("a")
            h1, h2 = dn.container("h1", net), dn.container("h2", net)
            assert_reachable(h1, h2)
        ```
    """

    # -- resources, each made by the function of its module (first in the class body: the
    # properties below share the modules' names) --------------------------------------------

    network = _Method(networks.create_network, _context)
    container = _Method(containers.container, _context)
    router = _Method(routers.router, _context)
    existing_network = _Method(existing.existing_network, _registry)
    existing_container = _Method(existing.existing_container, _registry)
    compose = _Method(compose.compose, _context)
    parallel = _Method(starts.parallel, _registry)
    start_errors = _Method(starts.start_errors, _registry)
    add_route = staticmethod(routes.add_route)
    upstream = _Method(upstreams.create_upstream, _context)
    listen = _Method(listeners.listen, _context)
    connect = _Method(changes.connect, _context)
    disconnect = _Method(changes.disconnect, _context)
    restart = _Method(changes.restart, _context)

    # -- observing --------------------------------------------------------------------------

    trace = _Method(trace.trace, _registry)
    check_local_target = _Method(destinations.check_local_target, _registry)

    def __init__(
        self,
        client: docker.DockerClient,
        identity: labels.RunIdentity | None = None,
        *,
        image: str | None = None,
        pool: str = addressing.DEFAULT_POOL,
        prefix: int = addressing.DEFAULT_PREFIX,
        pool6: str = addressing.DEFAULT_POOL6,
        scope: str = "",
        keep: bool = False,
        allow_external: bool = False,
        settle: Callable[[], None] | None = None,
        warm: WarmPool | None = None,
        kept_networks: KeptNetworks | None = None,
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
            pool6=addressing.parse_subnet6(pool6, "IPv6 subnet pool"),
            settle=settle,
            warm=warm,
            kept_networks=kept_networks,
            wanted_image=image,
        )
        self.leftovers: list[str] = []
        """What close() could not remove (reported, and swept by a later run)."""

    # -- what it holds ----------------------------------------------------------------------

    @property
    def scope(self) -> str:
        """The scope its resources are labelled with: the test's node id, or the session's."""
        return self._ctx.scope

    @property
    def pool(self) -> ipaddress.IPv4Network:
        """The pool subnets come from when ``network()`` is given none (``--dockernet-pool``).

        Example::

            assert dockernet.network("a").subnet.subnet_of(dockernet.pool)
        """
        return self._ctx.pool

    @property
    def prefix(self) -> int:
        """The prefix length of each subnet taken from the pool (24 by default).

        Example::

            assert dockernet.network("a").subnet.prefixlen == dockernet.prefix
        """
        return self._ctx.prefix

    @property
    def pool6(self) -> ipaddress.IPv6Network:
        """The pool the /64 of an IPv6 network comes from when ``network()`` is given no
        ``subnet6`` (``--dockernet-pool6``; a ULA /48 by default).

        Example::

            assert dockernet.network("a", ipv6=True).subnet6.subnet_of(dockernet.pool6)
        """
        return self._ctx.pool6

    @property
    def allow_external(self) -> bool:
        """Whether probes may target addresses outside every Docker network of this engine
        (``--dockernet-allow-external``); off by default, so nothing leaves the machine."""
        return self.registry.allow_external

    @property
    def networks(self) -> dict[str, Network]:
        """Its networks by the names the test gave them.

        Example::

            net = dockernet.network("a")
            assert dockernet.networks == {"a": net}
        """
        return self.registry.networks

    @property
    def containers(self) -> dict[str, Container]:
        """Its containers (routers, existing ones and compose services included) by the names
        the test gave them.

        Example::

            h1 = dockernet.container("h1", net)
            assert dockernet.containers["h1"] is h1
        """
        return self.registry.containers

    @property
    def upstreams(self) -> dict[str, Upstream]:
        """Its upstreams by name.

        Example::

            internet = dockernet.upstream()
            assert dockernet.upstreams == {"internet": internet}
        """
        return self.registry.upstreams

    @property
    def engine_info(self) -> dict[str, Any]:
        """``docker info`` of the engine, read once: it names the firewall backend.

        Example::

            dockernet.engine_info["ServerVersion"]   # '28.5.2'
        """
        return self.registry.engine_info

    @property
    def image(self) -> str:
        """The image containers get when the test names none: built locally on first use.

        Example::

            dockernet.container("h1", net, image=dockernet.image)   # the same as naming none
        """
        return self._ctx.image()

    # -- teardown ---------------------------------------------------------------------------

    def ending(self) -> None:
        """Say that close() follows (the fixtures run it in the background): the containers
        and networks it will give back to the warm pool are then awaited by the next test's
        requests instead of started or created again. close() says it itself otherwise.

        Example::

            dn.ending()
            threading.Thread(target=dn.close).start()
        """
        self._ctx.announce(self.keep)

    def close(self) -> None:
        """Remove every container, then every network this DockerNet created. Idempotent.

        The fixtures run this in the background, so the test does not wait for it.

        Example::

            dn = DockerNet(docker.from_env())
            net = dn.network("a")
            dn.close()  # net is gone; dn.leftovers names what could not be removed
        """
        self.leftovers += self._ctx.close(self.keep)

    def __enter__(self) -> DockerNet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
