"""A machine-wide reader/writer lock between what makes Docker rewrite the host firewall and the
probes whose verdict depends on it.

Docker rewrites its rules whenever a network is created or removed (20.10 deletes and
re-inserts FORWARD's jump to its isolation chain on every create), and when a container that
publishes ports starts or goes (Docker >= 28: any container on a bridge, for its raw-table
rules). A probe that crosses bridges while that happens may be answered through the gap. So
every such change the plugin makes holds this lock as a *writer* for the Docker call alone,
and a probe that is repeated because rules changed under it holds it as a *reader*: the run's
own xdist workers, and any other run of the plugin on this machine, then never rewrite the
firewall under a repeated probe.

Writers do not exclude each other: two changes at once cannot make a probe's verdict worse
when no repeated probe runs meanwhile, and dockerd does much of their work in parallel (a
container's start beside another's removal). Held exclusively, they had serialised every Docker
call of the run: measured on Docker 28.5, ten scenario-1 tests took 9.3 s one writer at a time
and 5.2 s with writers together. Readers share too; only the two kinds exclude each other.

It is three ``flock(2)`` files: one each that writers and readers hold shared while inside,
and a *turnstile* that whoever is getting in holds. Getting in, with the turnstile held: take
one's own kind's file shared (nobody else is getting in, so this never waits), then wait until
the other kind's file can be taken exclusively, i.e. none of the other kind is still inside,
and let it go at once. Those inside need nothing to leave. Anyone waiting holds the
turnstile, so a stream of one kind cannot hold the other off: later comers of either kind
queue behind it. The kernel releases the files when the holder's process dies, and every
acquisition opens its own descriptors, so threads of one process exclude each other too. One
thread asking again for the kind it holds gets it at once (reads nest, writes nest); asking
for the other kind would wait for itself and is refused.

Example::

    from pytest_dockernet.engine.lock import machine_lock

    lock = machine_lock()
    with lock.writing("create network n"):
        client.api.create_network("n", driver="bridge")
    with lock.reading():
        ...  # probe: no cooperating process rewrites the firewall meanwhile
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import FirewallLockError

DIRECTORY = Path("/run/lock")
"""Where the lock files live: one place per machine, cleared at boot (``/tmp`` without it)."""
NAME = "pytest-dockernet-firewall"
TIMEOUT = 600.0
"""Seconds one acquisition may wait before it is reported: only a stopped holder (SIGSTOP, a
debugger) or a holder waiting on a waiter takes that long."""
_POLL_FIRST, _POLL_MOST = 0.001, 0.02


class FirewallLock:
    """A lock that writers share and readers share, each kind keeping the other out, on the
    files ``<directory>/<name>.lock`` (writers inside), ``.readers`` and ``.turnstile``.

    Example::

        lock = FirewallLock(Path("/tmp/demo"))
        with lock.reading():
            pass
    """

    def __init__(self, directory: Path, name: str = NAME, timeout: float = TIMEOUT) -> None:
        self.path = directory / f"{name}.lock"
        self.readers = directory / f"{name}.readers"
        self.turnstile = directory / f"{name}.turnstile"
        self.timeout = timeout
        self._held = threading.local()

    def _depth(self, mode: str) -> int:
        return int(getattr(self._held, mode, 0))

    def _nest(self, mode: str, step: int) -> None:
        setattr(self._held, mode, self._depth(mode) + step)

    @contextlib.contextmanager
    def writing(self, what: str = "a firewall change", *, when: bool = True) -> Iterator[None]:
        """Hold the lock as a writer for ``what``: no reader meanwhile, other writers may be.
        With ``when=False`` (``what`` makes Docker write no rule), take nothing."""
        if not when:
            yield
            return
        if self._depth("read"):
            raise RuntimeError(
                f"{what} asked for the firewall lock as a writer while its thread holds it as "
                "a reader: it would wait for itself (a probe must not create or remove networks)"
            )
        with self._inside("write", self.path, self.readers, what):
            yield

    @contextlib.contextmanager
    def reading(
        self, what: str = "a firewall-dependent probe", *, when: bool = True
    ) -> Iterator[None]:
        """Hold the lock as a reader: writers wait, other readers do not. With ``when=False``,
        take nothing."""
        if not when:
            yield
            return
        if self._depth("write"):
            raise RuntimeError(
                f"{what} asked for the firewall lock as a reader while its thread holds it as "
                "a writer: it would wait for itself (a Docker change must not probe)"
            )
        with self._inside("read", self.readers, self.path, what):
            yield

    @contextlib.contextmanager
    def _inside(self, mode: str, mine: Path, theirs: Path, what: str) -> Iterator[None]:
        """Be inside as ``mode``: ``mine`` held shared, once nobody holds ``theirs``."""
        if self._depth(mode):
            self._nest(mode, 1)
            try:
                yield
            finally:
                self._nest(mode, -1)
            return
        gate = self._acquire(self.turnstile, fcntl.LOCK_EX, what)
        try:
            fd = self._acquire(mine, fcntl.LOCK_SH, what)
            try:
                os.close(self._acquire(theirs, fcntl.LOCK_EX, what))  # none of them inside
            except BaseException:
                os.close(fd)
                raise
        finally:
            os.close(gate)  # the next comer may get in once we are
        try:
            self._nest(mode, 1)
            yield
        finally:
            self._nest(mode, -1)
            os.close(fd)

    def _acquire(self, path: Path, operation: int, what: str) -> int:
        """A new descriptor of ``path`` holding ``operation``; closing it releases."""
        fd = _open(path)
        try:
            deadline = time.monotonic() + self.timeout
            pause = _POLL_FIRST
            while True:
                try:
                    fcntl.flock(fd, operation | fcntl.LOCK_NB)
                    return fd
                except BlockingIOError:
                    pass
                if time.monotonic() > deadline:
                    raise FirewallLockError(
                        f"{what} waited {self.timeout:g} s for the firewall lock {path}, held "
                        f"by {holders(path) or 'an unknown process'}: a stopped process or one "
                        "waiting on this one holds it; end it, or remove the file if no "
                        "process of pytest-dockernet runs"
                    )
                time.sleep(pause)
                pause = min(pause * 2, _POLL_MOST)
        except BaseException:
            os.close(fd)
            raise


def _open(path: Path) -> int:
    """The lock file, created if needed; read-only suffices for flock, so a file that another
    user created still serves."""
    try:
        return os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise FirewallLockError(
            f"cannot open the firewall lock {path}: {exc.strerror}; make {path.parent} "
            "writable, or create the file for everyone (`touch` it as root)"
        ) from exc


def holders(path: Path) -> str:
    """The pids holding a flock on ``path``, from /proc/locks (empty when none or unknown)."""
    try:
        inode = os.stat(path).st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return ""
    pids = sorted(
        {
            fields[4]
            for fields in (line.split() for line in lines)
            if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}")
        }
    )
    return ", ".join(f"pid {pid}" for pid in pids)


@functools.cache
def machine_lock() -> FirewallLock:
    """The lock every process of the plugin on this machine shares (``DIRECTORY``)."""
    return FirewallLock(DIRECTORY if DIRECTORY.is_dir() else Path("/tmp"))
