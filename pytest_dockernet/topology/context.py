"""What the resource factories of one DockerNet share: the engine, names, labels, the ledger of
created ids and the registry of values, so that each factory module stays one kind of resource.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import docker

from .. import images, labels
from ..model import Registry
from ..teardown import Ledger
from .warm import WarmPool

MAX_PARALLEL = 8
"""Concurrent container starts: dockerd serialises much of the work; more gains nothing."""
T = TypeVar("T")


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
    settle: Callable[[], None] | None = None
    """Waits for other DockerNets' background teardowns (they may hold a fixed subnet)."""
    default_image: str | None = None
    warm: WarmPool | None = None
    """Started containers of the built-in image to hand out (the run's, shared)."""
    _starts: ThreadPoolExecutor | None = field(default=None, repr=False)

    def submit(self, work: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``work`` on this DockerNet's pool of background starts."""
        if self._starts is None:
            self._starts = ThreadPoolExecutor(MAX_PARALLEL, thread_name_prefix="dockernet-start")
        return self._starts.submit(work, *args)

    def stop_starts(self) -> None:
        """Cancel the starts not begun yet and wait for those under way: after this, every
        container Docker created is in the ledger."""
        if self._starts is not None:
            self._starts.shutdown(wait=True, cancel_futures=True)
            self._starts = None

    def docker_name(self, name: str) -> str:
        return self.identity.docker_name(f"{self.scope}-{name}" if self.scope else name)

    def labels(self, name: str) -> dict[str, str]:
        return self.identity.labels(name)

    def image(self, wanted: str | None = None) -> str:
        """``wanted`` once it is known to be local, else the default, built on first use."""
        if wanted is not None:
            return images.check_image(self.client, wanted)
        if self.default_image is None:
            self.default_image = images.ensure_default_image(self.client)
        return self.default_image
