"""What the resource factories of one DockerNet share: the engine, names, labels, the ledger of
created ids and the registry of values, so that each factory module stays one kind of resource.
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker

from .. import addressing
from ..engine import images, labels
from ..engine.teardown import Ledger, NotRemoved, removes_concurrently
from ..model import Registry
from ..observe.network_state import leftovers
from .kept_networks import KeptNetworks
from .warm import WarmPool

MAX_PARALLEL = 8
"""Concurrent container starts: dockerd serialises much of the work; more gains nothing."""
T = TypeVar("T")


_starter_threads: ThreadPoolExecutor | None = None
_starter_lock = threading.Lock()


def _starter() -> ThreadPoolExecutor:
    """One pool of threads for every DockerNet of the process: none are made and joined per
    test, and MAX_PARALLEL bounds the starts of the whole run (the session's DockerNet and a
    test's together)."""
    global _starter_threads
    with _starter_lock:
        if _starter_threads is None:
            _starter_threads = ThreadPoolExecutor(
                MAX_PARALLEL, thread_name_prefix="dockernet-start"
            )
        return _starter_threads


@dataclass
class BuildContext:
    client: docker.DockerClient
    identity: labels.RunIdentity
    scope: str
    """Part of every Docker name, so that DockerNets of one run never collide."""
    registry: Registry
    ledger: Ledger
    pool: ipaddress.IPv4Network
    prefix: int
    pool6: ipaddress.IPv6Network = field(
        default_factory=lambda: ipaddress.IPv6Network(addressing.DEFAULT_POOL6)
    )
    """Where the /64 of an IPv6 network comes from when ``network()`` is given no subnet6."""
    settle: Callable[[], None] | None = None
    """Waits for other DockerNets' background teardowns (they may hold a fixed subnet)."""
    wanted_image: str | None = None
    """The image containers get when the test names none (``DockerNet(image=...)``)."""
    default_image: str | None = None
    warm: WarmPool | None = None
    """Started containers of the built-in image to hand out (the run's, shared)."""
    kept_networks: KeptNetworks | None = None
    """Empty networks ended tests gave back, to hand out again (the run's, shared)."""
    keys: dict[str, Hashable] = field(default_factory=dict)
    """Each network that may be kept when this DockerNet closes, by id: what it was asked as."""
    bridge_family: str = field(default_factory=lambda: secrets.token_hex(3))
    """Names the bridges of this DockerNet's routable networks (``dnr-<family>-<n>``)."""
    closing: list[Callable[[], None]] = field(default_factory=list)
    """Closed first, even when the resources are kept: the listeners' threads."""
    returns: dict[str, Callable[[], None]] = field(default_factory=dict)
    """Each container taken from the warm pool by id, and how it goes back there: run before
    the ledger removes the rest, while its networks still exist."""
    teardowns: list[Callable[[], list[NotRemoved]]] = field(default_factory=list)
    """Run after the ledger, newest first: taking down the Compose projects brought up."""
    routes: dict[str, list[tuple[addressing.IPNetwork, addressing.IPAddress]]] = field(
        default_factory=dict
    )
    """The ``routes=`` of each container by the test's name, added again after a restart."""
    _offered: dict[str, Hashable] | None = field(default=None, repr=False)
    """The networks announced as on their way back (``announce``), until close() decides."""
    _announced: int = field(default=0, repr=False)
    """Warm-pool containers announced as on their way back."""
    _scratch: Path | None = field(default=None, repr=False)
    _starts: list[Future[Any]] = field(default_factory=list, repr=False)

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work`` in the background, on the threads all DockerNets share."""
        future = _starter().submit(work, *args)
        self._starts = [f for f in self._starts if not f.done()]
        self._starts.append(future)
        return future

    def stop_starts(self) -> None:
        """Cancel this DockerNet's starts not begun yet and wait for those under way: after
        this, every container Docker created is in the ledger."""
        for future in self._starts:
            future.cancel()
        wait(self._starts)
        self._starts.clear()

    def docker_name(self, name: str) -> str:
        return self.identity.docker_name(f"{self.scope}-{name}" if self.scope else name)

    def labels(self, name: str) -> dict[str, str]:
        return self.identity.labels(name)

    def image(self, wanted: str | None = None) -> str:
        """``wanted`` (else ``wanted_image``) once it is known to be local, else the default,
        built on first use."""
        if wanted is None:
            wanted = self.wanted_image
        if wanted is not None:
            return images.check_image(self.client, wanted)
        if self.default_image is None:
            self.default_image = images.ensure_default_image(self.client)
        return self.default_image

    def scratch(self) -> Path:
        """A directory for files that live as long as the DockerNet (Compose override files),
        made on first use."""
        if self._scratch is None:
            self._scratch = Path(tempfile.mkdtemp(prefix="dockernet-compose-"))
        return self._scratch

    def _offer_networks(self) -> dict[str, Hashable]:
        """Announce the networks that may be kept (a request for one waits for it)."""
        if self.kept_networks is None:
            return {}
        offered = {i: key for i, key in self.keys.items() if i in self.ledger.networks}
        for key in offered.values():
            self.kept_networks.returning(key)
        self.keys.clear()
        return offered

    def _keep_network(self, net_id: str, offered: dict[str, Hashable]) -> bool:
        """Give ``net_id`` back to the kept networks if it was offered and its containers
        left nothing on the host; True once it is theirs."""
        if net_id not in offered or self.kept_networks is None:
            return False
        key = offered.pop(net_id)
        net = next((n for n in self.registry.networks.values() if n.id == net_id), None)
        if net is None or net.subnet is None:
            self.kept_networks.lost(key, f"{net_id[:12]}: not this test's network any more")
            return False
        try:
            found = leftovers(net.bridge, net.subnet, net.gateway)
        except Exception as exc:  # unproven clean is not clean: a fresh one instead
            found = [f"the host could not be read: {exc!r}"]
        if found:
            self.kept_networks.lost(key, f"{net.name}: {'; '.join(found)}")
            return False
        return self.kept_networks.give_back(key, net_id)

    def announce(self, keep: bool = False) -> None:
        """Say that close() follows, before it runs in the background: the warm pool's
        containers and the networks it will give back are then awaited by the next requests
        rather than made afresh. Idempotent; close() does it when nobody did."""
        if keep or self._offered is not None:
            return
        if self.warm is not None and self.returns:
            self.warm.returning(len(self.returns))
            self._announced = len(self.returns)
        self._offered = self._offer_networks()

    def close(self, keep: bool = False) -> list[str]:
        """Close the listeners, then (unless ``keep``) remove every container, then every
        network, then run the teardowns. Idempotent. Returns what could not be removed."""
        self.announce(keep)
        for close in self.closing:
            close()
        self.closing.clear()
        self.stop_starts()  # every container Docker created is in the ledger after this
        if self.warm is not None and self.returns:
            if keep:
                for container_id in self.returns:
                    self.warm.kept(container_id)
            else:
                if len(self.returns) > self._announced:  # started after the announcement
                    self.warm.returning(len(self.returns) - self._announced)
                # Together (each is mostly a disconnect, 80 ms on 28.5), on threads of their
                # own: a start waiting for one of them may hold every starter thread.
                givers = min(len(self.returns), MAX_PARALLEL)
                with ThreadPoolExecutor(givers, thread_name_prefix="dockernet-return") as pool:
                    for done in [pool.submit(back) for back in self.returns.values()]:
                        done.result()
            self.returns.clear()
        self._announced = 0
        if keep:
            return []
        offered = self._offered or {}
        try:
            problems = self.ledger.close(
                together=removes_concurrently(self.client),
                keep=lambda net_id: self._keep_network(net_id, offered),
            )
        finally:
            while offered and self.kept_networks is not None:  # an error stopped the ledger
                self.kept_networks.lost(offered.popitem()[1], "its test's teardown stopped")
        while self.teardowns:
            problems += self.teardowns[-1]()
            self.teardowns.pop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        self.registry.clear()
        return [
            f"{p}; left for `pytest --dockernet-sweep`" if not p.stuck else str(p) for p in problems
        ]
