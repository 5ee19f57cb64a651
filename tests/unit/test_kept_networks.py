"""Kept networks' bookkeeping: a network given back goes to the next request of the same key
only, a request waits for one on its way back (and not for one that is lost), and a closed
pool takes nothing. (What is kept and what refused, on a real engine: ``tests/engine/
test_warm.py``.)"""

from __future__ import annotations

import threading
import time

from pytest_dockernet.engine.teardown import Ledger
from pytest_dockernet.topology.kept_networks import KeptNetworks
from pytest_dockernet.topology.warm import RETURN_WAIT

LAN = ("lan", False, ())
DMZ = ("dmz", True, ())


def kept() -> KeptNetworks:
    return KeptNetworks(None)  # type: ignore[arg-type]  # no engine: nothing is removed


def ledger() -> Ledger:
    return Ledger(None)  # type: ignore[arg-type]


def test_a_network_given_back_serves_the_same_key_only():
    pool, test = kept(), ledger()
    assert pool.take(LAN, test) is None  # nothing kept, nothing on its way: no wait
    pool.returning(LAN)
    assert pool.give_back(LAN, "n1")
    assert pool.take(DMZ, test) is None
    assert pool.take(LAN, test) == "n1"
    assert test.networks == ["n1"]  # the taker's to remove or give back now
    assert pool.take(LAN, test) is None
    assert (pool.kept, pool.served, pool.refused) == (1, 1, [])


def test_a_request_waits_for_one_on_its_way_and_not_for_one_lost():
    pool = kept()
    pool.returning(LAN)
    pool.returning(LAN)
    threading.Timer(0.2, lambda: pool.give_back(LAN, "n1")).start()
    started = time.monotonic()
    assert pool.take(LAN, ledger()) == "n1"
    assert 0.15 < time.monotonic() - started < RETURN_WAIT
    threading.Timer(0.2, lambda: pool.lost(LAN, "lan: neighbour 10.199.3.2")).start()
    started = time.monotonic()
    assert pool.take(LAN, ledger()) is None  # the other one was lost: create one
    assert time.monotonic() - started < RETURN_WAIT
    assert pool.refused == ["lan: neighbour 10.199.3.2"]


def test_a_closed_pool_takes_nothing_and_leaves_later_ones_to_their_tests():
    pool = kept()
    pool.returning(LAN)
    assert pool.close() == []  # nothing kept: nothing to remove (the engine tests remove some)
    assert not pool.give_back(LAN, "n2")  # its test removes it
    pool.returning(LAN)
    started = time.monotonic()
    assert pool.take(LAN, ledger()) is None  # closed: no wait for the one announced
    assert time.monotonic() - started < RETURN_WAIT
