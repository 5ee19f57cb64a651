"""One run's factory of DockerNets: its engine client, identity, settings, and every DockerNet
it opened.

The fixtures ask it for a DockerNet per test; whatever a test's teardown did not get to
(Ctrl-C, SIGTERM from a CI runner) is closed here at the end of the run. Building it touches
nothing: sweeping the engine and handling signals are the plugin's hooks' business.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import docker

from ..engine import images, labels
from ..errors import DockernetError
from ..model import Registry
from ..settings import Settings
from . import DockerNet, WarmPool, warm_pool
from .kept_networks import KeptNetworks


class DockerNetFactory:
    """Makes a DockerNet per test for one run, and closes any left open."""

    def __init__(self, client: docker.DockerClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.identity = labels.RunIdentity.current()
        self._open: list[DockerNet] = []
        self._closer = ThreadPoolExecutor(max_workers=2, thread_name_prefix="dockernet-close")
        self._closing: list[tuple[DockerNet, Future[None]]] = []
        self._count = 0
        self.leftovers: list[str] = []
        self.kept: list[str] = []
        self.warm: WarmPool | None = None
        """The run's warm pool, started with the first DockerNet (``--dockernet-warm``)."""
        self._warm_tried = False
        self.kept_networks: KeptNetworks | None = None
        """The run's kept networks: on with the warm pool, whose containers join and leave
        them (Docker 28 and later)."""

    def open_registries(self) -> list[Registry]:
        """The resources of every DockerNet not closed yet: a test's own and the session's."""
        return [dn.registry for dn in self._open]

    def check_image(self) -> None:
        """Fail before any test when ``--dockernet-image`` names an image the engine lacks."""
        if self.settings.image is not None:
            images.check_image(self.client, self.settings.image)

    def new(self, scope: str | None = None) -> DockerNet:
        """A DockerNet whose close() the factory may run in the background (see close())."""
        self._count += 1
        if not self._warm_tried:
            self._warm_tried = True
            self.warm = self._warm_pool()
            if self.warm is not None:
                self.kept_networks = KeptNetworks(self.client)
        dn = DockerNet(
            self.client,
            self.identity,
            image=self.settings.image,
            pool=self.settings.pool,
            prefix=self.settings.prefix,
            pool6=self.settings.pool6,
            scope=scope or f"t{self._count}",
            keep=self.settings.keep,
            allow_external=self.settings.allow_external,
            settle=self.settle,
            warm=self.warm,
            kept_networks=self.kept_networks,
        )
        self._open.append(dn)
        return dn

    def _warm_pool(self) -> WarmPool | None:
        """The pool serves the built-in image only: an image of the user's own may read its
        network when it starts, and a pooled container starts on none. Off where
        ``warm_pool`` refuses: no busybox to build from (the first container says so), or
        Docker before 28 (its dockerd deadlocked)."""
        if not self.settings.warm or self.settings.image is not None:
            return None
        try:
            return warm_pool(self.client, self.identity, self.settings.warm)
        except DockernetError:
            return None

    def close(self, dn: DockerNet) -> Future[None] | None:
        """Remove what ``dn`` created, in the background: the next test need not wait.

        Names are unique per DockerNet and allocated subnets skip networks that still exist,
        so the next test cannot collide with a teardown in progress; a test asking for a
        fixed subnet that one still holds waits for it (``settle``).
        """
        if dn in self._open:
            self._open.remove(dn)
        if dn.keep:
            self.kept += [c.name for c in dn.containers.values()]
            self.kept += [n.name for n in dn.networks.values()]
            return None
        self._collect(wait=False)  # keep only unfinished teardowns: memory stays flat
        dn.ending()  # before the next test asks: what comes back is awaited, not made again
        future = self._closer.submit(self._close, dn)
        self._closing.append((dn, future))
        return future

    @staticmethod
    def _close(dn: DockerNet) -> None:
        """``dn.close()``, once more after an unexpected error: what the first pass did not
        remove is still in its ledger. Seen: requests reads os.environ for proxies while
        pytest's main thread deletes PYTEST_CURRENT_TEST, and the read raises KeyError."""
        try:
            dn.close()
        except Exception:
            dn.close()

    @property
    def tracked_teardowns(self) -> int:
        """Background teardowns still remembered: finished ones are forgotten at the next close."""
        return len(self._closing)

    def settle(self) -> None:
        """Wait until every background teardown has finished, and collect what it left."""
        self._collect(wait=True)

    def _collect(self, wait: bool) -> None:
        """Record what finished teardowns left and forget them; with ``wait``, all of them."""
        done = [(dn, f) for dn, f in self._closing if wait or f.done()]
        self._closing = [(dn, f) for dn, f in self._closing if not (wait or f.done())]
        for dn, future in done:
            error = future.exception()
            if error is not None:
                self.leftovers.append(f"teardown of {dn.scope} failed: {error!r}")
            self.leftovers += dn.leftovers

    def close_all(self) -> None:
        """Close every DockerNet still open and wait for all teardowns: the run's last step."""
        for dn in list(self._open):
            self.close(dn)
        self.settle()
        if self.warm is not None:
            self.leftovers += [str(problem) for problem in self.warm.close()]
        if self.kept_networks is not None:
            self.leftovers += [str(problem) for problem in self.kept_networks.close()]
