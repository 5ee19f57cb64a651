"""What the resource factories of one DockerNet share: the engine, names, labels, the ledger of
created ids and the registry of values, so that each factory module stays one kind of resource.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import docker

from .. import images, labels
from ..model import Registry
from ..teardown import Ledger


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
