"""The warm pool's bookkeeping when starting a pooled container fails: it stops, and every
request starts fresh (the engine tests cover a pool that works)."""

from __future__ import annotations

import re

import pytest

from pytest_dockernet.engine.teardown import Ledger
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
    assert pool.take(Ledger(None)) is None  # type: ignore[arg-type]
    assert pool.close() == []  # nothing was created, so nothing is removed
    assert pool.close() == []


@pytest.mark.parametrize("size", [-1, 65, 2.0, True, "4"])
def test_a_bad_size_names_it(size):
    with pytest.raises(ValueError, match=rf"warm pool size {size!r}: give a whole number"):
        WarmPool(None, "img", size, refuse, str)  # type: ignore[arg-type]
