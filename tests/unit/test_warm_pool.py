"""The warm pool's bookkeeping: when starting a pooled container fails it stops, and every
request starts fresh; containers given back are handed out again, only where a used one may
go, and a request waits for one on its way back. (The engine tests cover what is given back
and what is refused, in ``tests/engine/test_warm.py``.)"""

from __future__ import annotations

import itertools
import re
import threading
import time

import pytest

from pytest_dockernet.engine.teardown import Ledger
from pytest_dockernet.observe.container_state import ContainerState
from pytest_dockernet.retry import wait_until
from pytest_dockernet.topology import WarmPool


def refuse(ledger: Ledger, docker_name: str) -> str:
    raise RuntimeError(f"no engine for {docker_name}")


def test_a_failed_start_stops_the_pool_and_takes_return_none():
    pool = WarmPool(None, "img", 3, refuse, lambda n: f"warm{n}")  # type: ignore[arg-type]
    pool.fill(5)  # three at most
    failure = wait_until(lambda: pool.failure, 5, "the pool's failed start", interval=0.01)
    assert re.fullmatch(r"no engine for warm\d", str(failure))
    assert pool.ready == 0
    assert pool.take(Ledger(None), used=True) is None  # type: ignore[arg-type]
    assert pool.close() == []  # nothing was created, so nothing is removed
    assert pool.close() == []


@pytest.mark.parametrize("size", [-1, 65, 2.0, True, "4"])
def test_a_bad_size_names_it(size):
    with pytest.raises(ValueError, match=rf"warm pool size {size!r}: give a whole number"):
        WarmPool(None, "img", size, refuse, str)  # type: ignore[arg-type]


STATE = ContainerState((), (), (), "c", "c\n", "", 1, 0, ())


class Starts:
    """Stands in for dockerd's create and start: records each id in the pool's ledger."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self._ids = itertools.count(1)

    def __call__(self, ledger: Ledger, docker_name: str) -> tuple[str, ContainerState]:
        cid = f"c{next(self._ids)}"
        ledger.containers.append(cid)
        ledger.no_rules.add(cid)  # on network "none", as containers.start_warm records it
        self.made.append(cid)
        return cid, STATE


class Engine:
    """Stands in for dockerd's container removal, which the pool's close asks for."""

    def __init__(self) -> None:
        self.removed: list[str] = []
        self.api = self

    def remove_container(self, cid: str, **options: object) -> None:
        self.removed.append(cid)


def filled(pool: WarmPool, count: int) -> WarmPool:
    wait_until(lambda: pool.ready >= count, 5, f"{count} ready", interval=0.01)
    return pool


def test_a_container_given_back_is_handed_out_again_and_nothing_more_is_started():
    starts, engine = Starts(), Engine()
    pool = WarmPool(engine, "img", 2, starts, str)  # type: ignore[arg-type]
    pool.fill(2)
    filled(pool, 2)
    test = Ledger(None)  # type: ignore[arg-type]
    taken = pool.take(test, used=True)
    assert taken == ("c1", False)  # none used yet: a fresh one
    assert test.containers == ["c1"]
    pool.returning(1)
    pool.give_back("c1", test)
    assert test.containers == [] and pool.ready == 2
    again = Ledger(None)  # type: ignore[arg-type]
    assert pool.take(again, used=False) == ("c2", False)  # a request on no network: fresh
    assert pool.take(again, used=True) == ("c1", True)
    assert (pool.served, pool.reused) == (3, 1)
    time.sleep(0.05)
    assert starts.made == ["c1", "c2"]  # both out: the pool holds 2 in all, out or in
    assert pool.close() == []
    assert engine.removed == []  # their takers remove them


def test_a_request_waits_for_a_container_on_its_way_back():
    engine = Engine()
    pool = WarmPool(engine, "img", 1, Starts(), str)  # type: ignore[arg-type]
    pool.fill(1)
    first = Ledger(None)  # type: ignore[arg-type]
    assert filled(pool, 1).take(first, used=True) == ("c1", False)
    pool.returning(1)
    threading.Timer(0.2, pool.give_back, ("c1", first)).start()
    assert pool.take(Ledger(None), used=True) == ("c1", True)  # type: ignore[arg-type]
    pool.close()
    assert engine.removed == []  # handed out: its taker removes it


def test_a_container_not_given_back_is_replaced_and_the_reason_kept():
    starts, engine = Starts(), Engine()
    pool = WarmPool(engine, "img", 1, starts, str)  # type: ignore[arg-type]
    pool.fill(1)
    test = Ledger(None)  # type: ignore[arg-type]
    filled(pool, 1).take(test, used=True)
    pool.returning(1)
    pool.lost("c1", "web: processes: 1 -> 2")
    assert test.containers == ["c1"]  # its test removes it
    assert pool.refused == ["web: processes: 1 -> 2"]
    filled(pool, 1)
    assert starts.made == ["c1", "c2"]
    pool.close()
    assert engine.removed == ["c2"]
