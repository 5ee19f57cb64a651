"""A warm pool: containers of the built-in image started ahead of need on network "none".

A container start is most of a test's set-up (about 280 ms on 2 cores); handing out a pooled
container is a rename and a network connect instead. A test gives a pooled container back
when it ends: it leaves the test's networks, gets its first hostname back, and waits for the
next request only if it is then what it was when it started (``ContainerState``, read then
and now); otherwise the test removes it with the rest, and the pool starts another in the
background. Pooled containers carry the run's labels, so a sweep removes them like the rest.
What a pooled container must look like and how it is handed out and given back is the
container factory's business (``containers.start_warm``, ``containers.take_warm``,
``reuse.give_back``); this module only keeps the pool.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import docker

from ..engine.teardown import Ledger, NotRemoved
from ..observe.container_state import ContainerState
from ..settings import MAX_WARM

FILLERS = 2
"""Starts the pool runs at once: enough to keep up with a test taking two containers, few
enough to leave dockerd to the tests' own starts."""
POOL_API = (1, 48)
"""Docker 28.0, the first engine the pool runs on. On Docker 20.10 dockerd deadlocked (every
network call hung for minutes) when pooled containers were disconnected from "none" beside
other tests' network creates and removals: its goroutine dump showed two disconnects from
"none" and the endpoint watch loop each waiting for a lock the other side held."""
RETURN_WAIT = 5.0
"""Seconds a request with no container ready waits for one that an ended test is giving back
(about 60 ms each on Docker 28.5), before it starts a fresh one."""
POOLED = "warm"
"""The name label (``labels.NAME``) of a pooled container: the test's name for it is not
known when it is made, and Docker cannot change labels later."""


class WarmPool:
    """Started containers of ``image``, as many as the tests have been asking for (up to
    ``size``), refilled in the background, and given back by the tests that took them.

    It follows demand: each request starts one container for a later one, as long as the
    pool's containers, ready and handed out together, are fewer than ``size``; those handed
    out come back when their test ends. A run of one test thus starts only what it asked for,
    and a suite of similar tests finds what the previous test used. ``start(ledger,
    docker_name)`` creates and starts one (recording its id in ``ledger``) and returns its id
    and its state as it starts. The first failed start stops the pool (``failure`` says why):
    every request then starts fresh, and shows Docker's error where the test asked.

    Example::

        pool = warm_pool(client, identity, 4)  # containers.warm_pool builds one
        with DockerNet(client, identity, warm=pool) as dn:
            dn.container("web", networks=[dn.network("lan")])  # taken from the pool
        pool.reused  # 0: "web" went back, for the next test to take
        pool.close()
    """

    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        size: int,
        start: Callable[[Ledger, str], tuple[str, ContainerState]],
        name: Callable[[int], str],
    ) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_WARM:
            raise ValueError(f"warm pool size {size!r}: give a whole number from 0 to {MAX_WARM}")
        self.image = image
        self.size = size
        self.failure: BaseException | None = None
        self.served = 0
        """Containers handed out so far."""
        self.reused = 0
        """Of those, containers that an earlier test had given back."""
        self.refused: list[str] = []
        """Why each container a test gave back was removed instead (its state differed)."""
        self._start = start
        self._name = name
        self._numbers = itertools.count(1)
        self._ledger = Ledger(client)
        self._ready: deque[str] = deque()
        self._used: deque[str] = deque()
        self._pristine: dict[str, ContainerState] = {}
        self._pending = 0
        self._out = 0
        self._returning = 0
        self._lock = threading.Condition()
        self._closed = False
        self._fillers = ThreadPoolExecutor(FILLERS, thread_name_prefix="dockernet-warm")

    @property
    def ready(self) -> int:
        """Containers waiting to be handed out, fresh or given back."""
        return len(self._ready) + len(self._used)

    def fill(self, count: int) -> None:
        """Start up to ``count`` more in the background, never holding more than ``size``."""
        with self._lock:
            self._schedule(count)

    def take(self, to: Ledger, used: bool) -> tuple[str, bool] | None:
        """A started container's id, now ``to``'s to remove, and whether an earlier test used
        it (only when ``used`` allows one: it has joined and left networks); None when none is
        ready, nor given back within ``RETURN_WAIT`` (the caller starts a fresh one)."""
        with self._lock:
            if used and not self._used and not self._ready and self._returning:
                self._lock.wait_for(
                    lambda: bool(self._used or self._ready) or not self._returning, RETURN_WAIT
                )
            taken = None
            if not self._closed and (self._ready or (used and self._used)):
                was_used = used and bool(self._used)
                container_id = self._used.popleft() if was_used else self._ready.popleft()
                self._ledger.hand_over(container_id, to)
                self.served += 1
                self.reused += was_used
                self._out += 1
                taken = (container_id, was_used)
            self._schedule(1)
        return taken

    def returning(self, count: int) -> None:
        """``count`` containers handed out are on their way back (``give_back`` or ``lost``
        follows for each): a request waits for them rather than start another."""
        with self._lock:
            self._returning += count

    def pristine(self, container_id: str) -> ContainerState | None:
        """The state of a pooled container as it started (None for one not the pool's)."""
        with self._lock:
            return self._pristine.get(container_id)

    def give_back(self, container_id: str, by: Ledger) -> None:
        """Take back a container that ``by`` was to remove, shown to be as it started: the
        next request may take it. When the pool is closed, ``by`` still removes it."""
        with self._lock:
            self._returning -= 1
            self._out -= 1
            if self._closed:
                self._pristine.pop(container_id, None)
            else:
                by.hand_over(container_id, self._ledger)
                self._ledger.no_rules.add(container_id)  # on no network again
                self._used.append(container_id)
            self._lock.notify_all()

    def lost(self, container_id: str, why: str) -> None:
        """A container on its way back that is not coming back (``why``: its state differed):
        its taker removes it, and the pool starts another."""
        with self._lock:
            self._returning -= 1
            self.refused.append(why)
            self._forget(container_id)

    def kept(self, container_id: str) -> None:
        """A container handed out that its test keeps (``--dockernet-keep``): it never comes
        back, and the pool starts another."""
        with self._lock:
            self._forget(container_id)

    def _forget(self, container_id: str) -> None:
        """A container handed out is the pool's no more; the caller holds the lock."""
        self._out -= 1
        self._pristine.pop(container_id, None)
        self._schedule(1)
        self._lock.notify_all()

    def next_name(self) -> str:
        """A Docker name for a container coming back: no test's name can take it."""
        return self._name(next(self._numbers))

    def _schedule(self, count: int) -> None:
        """Submit up to ``count`` starts; the caller holds the lock."""
        room = self.size - self.ready - self._pending - self._out
        if self._closed or self.failure is not None:
            return
        for _ in range(min(count, room)):
            self._pending += 1
            self._fillers.submit(self._fill)

    def _fill(self) -> None:
        started = None
        try:
            if not self._closed and self.failure is None:
                started = self._start(self._ledger, self.next_name())
        except Exception as exc:  # the pool stops; fresh starts show Docker's error
            with self._lock:
                self.failure = self.failure or exc
        finally:
            with self._lock:
                self._pending -= 1
                if started is not None and not self._closed:
                    container_id, state = started
                    self._pristine[container_id] = state
                    self._ready.append(container_id)
                    self._lock.notify_all()

    def close(self) -> list[NotRemoved]:
        """Stop refilling, wait for the starts under way, and remove every container not
        handed out. Idempotent."""
        with self._lock:
            self._closed = True
            self._ready.clear()
            self._used.clear()
            self._pristine.clear()
            self._lock.notify_all()
        self._fillers.shutdown(wait=True, cancel_futures=True)
        return self._ledger.close(together=True)  # on no network: moby#42119 does not apply
