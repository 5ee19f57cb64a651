"""A warm pool: containers of the built-in image started ahead of need on network "none".

A container start is most of a test's set-up (about 280 ms on 2 cores); handing out a pooled
container is a rename and a network connect instead. Each pooled container serves one test:
the taker's ledger removes it with the rest of the test, and the pool starts another in the
background. Pooled containers carry the run's labels, so a sweep removes them like the rest.
What a pooled container must look like and how it is handed out is the container factory's
business (``containers.start_warm``, ``containers.take_warm``); this module only keeps the pool.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker

from ..engine.teardown import Ledger, NotRemoved
from ..settings import MAX_WARM

FILLERS = 2
"""Starts the pool runs at once: enough to keep up with a test taking two containers, few
enough to leave dockerd to the tests' own starts."""
POOL_API = (1, 48)
"""Docker 28.0, the first engine the pool runs on. On Docker 20.10 dockerd deadlocked (every
network call hung for minutes) when pooled containers were disconnected from "none" beside
other tests' network creates and removals: its goroutine dump showed two disconnects from
"none" and the endpoint watch loop each waiting for a lock the other side held."""
POOLED = "warm"
"""The name label (``labels.NAME``) of a pooled container: the test's name for it is not
known when it is made, and Docker cannot change labels later."""


class WarmPool:
    """Started containers of ``image``, as many as the tests have been asking for (up to
    ``size``), refilled in the background.

    It follows demand: each request, served or not, starts one container for a later one.
    A run of one test thus starts only what it asked for, and a suite of similar tests finds
    what the previous test used. ``start(ledger, docker_name)`` creates and starts one
    (recording its id in ``ledger``) and returns its id. The first failed start stops the
    pool (``failure`` says why): every request then starts fresh, and shows Docker's error
    where the test asked.
    """

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        size: int,
        start: Callable[[Ledger, str], str],
        name: Callable[[int], str],
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_WARM:
            raise ValueError(f"warm pool size {size!r}: give a whole number from 0 to {MAX_WARM}")
        self.image = image
        self.size = size
        self.failure: BaseException | None = None
        self.served = 0
        """Containers handed out so far."""
        self._start = start
        self._name = name
        self._numbers = itertools.count(1)
        self._ledger = Ledger(client)
        self._ready: deque[str] = deque()
        self._pending = 0
        self._lock = threading.Lock()
        self._closed = False
        self._fillers = ThreadPoolExecutor(FILLERS, thread_name_prefix="dockernet-warm")

    @property
    def ready(self) -> int:
        """Containers started and waiting to be handed out."""
        return len(self._ready)

    def fill(self, count: int) -> None:
        """Start up to ``count`` more in the background, never holding more than ``size``."""
        with self._lock:
            self._schedule(count)

    def take(self, to: Ledger) -> str | None:
        """A started container's id, now ``to``'s to remove; None when none is ready (the
        caller starts a fresh one). Either way another is started for a later request."""
        with self._lock:
            container_id = None
            if self._ready and not self._closed:
                container_id = self._ready.popleft()
                self._ledger.hand_over(container_id, to)
                self.served += 1
            self._schedule(1)
        return container_id

    def _schedule(self, count: int) -> None:
        """Submit up to ``count`` starts; the caller holds the lock."""
        room = self.size - len(self._ready) - self._pending
        if self._closed or self.failure is not None:
            return
        for _ in range(min(count, room)):
            self._pending += 1
            self._fillers.submit(self._fill)

    def _fill(self) -> None:
        container_id = None
        try:
            if not self._closed and self.failure is None:
                container_id = self._start(self._ledger, self._name(next(self._numbers)))
        except Exception as exc:  # the pool stops; fresh starts show Docker's error
            with self._lock:
                self.failure = self.failure or exc
        finally:
            with self._lock:
                self._pending -= 1
                if container_id is not None and not self._closed:
                    self._ready.append(container_id)

    def close(self) -> list[NotRemoved]:
        """Stop refilling, wait for the starts under way, and remove every container not
        handed out. Idempotent."""
        with self._lock:
            self._closed = True
            self._ready.clear()
        self._fillers.shutdown(wait=True, cancel_futures=True)
        return self._ledger.close(together=True)  # on no network: moby#42119 does not apply
