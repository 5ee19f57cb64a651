"""Kept networks: a bridge network an ended test leaves empty goes to the next test that asks
for the same one, instead of being removed and created again.

A network's create and remove are about 0.3 s of dockerd's work per test on 2 cores (Docker
28.5: 0.43 s for create, two connects, two disconnects and remove, against 0.17 s for the
connects and disconnects alone on a network kept). Only a network the test gave no subnet,
gateway, bridge name, IPv6 or ``routable=True`` is kept (its subnet came from the pool, so no
later request can be asking for it by address), keyed by everything else the test asked for:
its name, whether internal, its driver options, and the pool and prefix its subnet came from.
Its Docker name stays the first test's (Docker cannot rename a network), its labels are the
same (they carry the test's name for it, which the key holds), and it is handed out only once
the host holds nothing of its past containers (``observe.network_state.leftovers``). Docker 28
and later only: it goes with the warm pool, whose containers are the ones that join and leave
it.

Example::

    kept = KeptNetworks(client)
    key = ("lan", False, (), IPv4Network("10.199.0.0/16"), 24)  # as networks.py makes it
    kept.take(key, ledger)  # None: nothing kept yet, the caller creates one
    kept.close()
"""

from __future__ import annotations

import threading
from collections.abc import Hashable

import docker

from ..engine.teardown import Ledger, NotRemoved
from .warm import RETURN_WAIT


class KeptNetworks:
    """Empty networks that ended tests gave back, by what a test asked for, for the next
    request of the same; removed when the run ends (they carry the run's labels, so a sweep
    removes those of a killed run).

    Example::

        kept = KeptNetworks(client)
        kept.returning(key)            # a test that ends announces one on its way
        kept.give_back(key, net_id)    # ...and gives it back, or
        kept.lost(key, "neighbour 10.199.3.2 on br-0a1b2c3d4e5f")  # removes it itself
        kept.take(key, ledger)         # net_id: now ledger's to remove or give back
    """

    def __init__(self, client: docker.DockerClient) -> None:
        self.served = 0
        """Networks handed out again."""
        self.kept = 0
        """Networks given back."""
        self.refused: list[str] = []
        """Why each network that an ended test offered was removed instead."""
        self._ledger = Ledger(client)
        self._ready: dict[Hashable, list[str]] = {}
        self._returning: dict[Hashable, int] = {}
        self._lock = threading.Condition()
        self._closed = False

    def take(self, key: Hashable, to: Ledger) -> str | None:
        """The id of a kept network matching ``key``, now ``to``'s; None when there is none,
        nor one given back within the warm pool's ``RETURN_WAIT`` (the caller creates one: a
        network comes back once its containers have left it, about 0.2 s on Docker 28.5)."""
        with self._lock:
            if not self._closed and not self._ready.get(key) and self._returning.get(key):
                self._lock.wait_for(
                    lambda: (
                        self._closed or bool(self._ready.get(key)) or not self._returning.get(key)
                    ),
                    RETURN_WAIT,
                )
            ready = self._ready.get(key)
            if self._closed or not ready:
                return None
            net_id = ready.pop()
            self._ledger.hand_over(net_id, to)
            self.served += 1
            return net_id

    def returning(self, key: Hashable) -> None:
        """A network matching ``key`` is on its way back (``give_back`` or ``lost`` follows):
        a request for it waits rather than create another."""
        with self._lock:
            self._returning[key] = self._returning.get(key, 0) + 1

    def give_back(self, key: Hashable, net_id: str) -> bool:
        """Keep the empty network ``net_id`` for the next request of ``key``: True once it is
        this pool's to remove (the giver then forgets it), False when the pool is closed."""
        with self._lock:
            self._done(key)
            if self._closed:
                return False
            self._ledger.networks.append(net_id)
            self._ready.setdefault(key, []).append(net_id)
            self.kept += 1
            return True

    def lost(self, key: Hashable, why: str) -> None:
        """A network on its way back that is not coming (``why``): its test removes it."""
        with self._lock:
            self._done(key)
            self.refused.append(why)

    def _done(self, key: Hashable) -> None:
        """One network of ``key`` is no longer on its way; the caller holds the lock."""
        self._returning[key] -= 1
        if not self._returning[key]:
            del self._returning[key]
        self._lock.notify_all()

    def close(self) -> list[NotRemoved]:
        """Remove every kept network; later ones given back stay their tests'. Idempotent."""
        with self._lock:
            self._closed = True
            self._ready.clear()
            self._lock.notify_all()
        return self._ledger.close()
