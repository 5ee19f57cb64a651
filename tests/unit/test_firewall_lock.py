"""The firewall lock: writers share, readers share, each kind keeps the other out, whoever
waits goes before later comers of either kind, and a holder's death or exception releases it. Real flock(2) files in a
temporary directory; threads and processes as the contenders."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_dockernet.engine.lock import FirewallLock, holders
from pytest_dockernet.errors import FirewallLockError

HOLD = """
import sys, time
from pathlib import Path
from pytest_dockernet.engine.lock import FirewallLock
with FirewallLock(Path(sys.argv[1])).writing("the other process"):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.fixture
def lock(tmp_path: Path) -> FirewallLock:
    return FirewallLock(tmp_path, timeout=0.3)


@pytest.fixture
def other_writer(tmp_path: Path):
    """Another process holding the lock exclusively until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield proc
    proc.kill()
    proc.wait()


def test_a_writer_in_another_process_keeps_readers_out_and_is_named(lock, other_writer):
    with pytest.raises(FirewallLockError) as info, lock.reading("my probe"):
        pass
    text = str(info.value)
    assert f"my probe waited 0.3 s for the firewall lock {lock.path}" in text
    assert f"pid {other_writer.pid}" in text


def test_the_holders_death_releases_it(lock, other_writer):
    other_writer.kill()
    other_writer.wait()
    with lock.writing():
        assert holders(lock.path)  # ours now


def test_an_exception_releases_it(lock, tmp_path):
    with pytest.raises(ValueError, match="boom"), lock.writing():
        raise ValueError("boom")
    with FirewallLock(tmp_path, timeout=0.3).writing():  # another holder gets it at once
        pass


def test_readers_share_and_writers_wait_for_them(lock, tmp_path):
    other = FirewallLock(tmp_path, timeout=0.3)
    failure: list[BaseException] = []

    def write() -> None:
        try:
            with other.writing("a network create"):
                pass
        except FirewallLockError as exc:
            failure.append(exc)

    with lock.reading():
        with other.reading():  # another instance (as another thread would): shared
            pass
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(5)
    assert len(failure) == 1
    assert "a network create waited 0.3 s" in str(failure[0])


@pytest.mark.parametrize(("inside", "waiting"), [("reading", "writing"), ("writing", "reading")])
def test_a_waiter_goes_before_later_comers_of_the_kind_inside(tmp_path, inside, waiting):
    """Without the turnstile, a stream of overlapping probes would hold a network create off
    for as long as it lasts, and a stream of Docker changes a repeated probe."""
    lock = FirewallLock(tmp_path, timeout=10)
    order: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with getattr(lock, inside)():
            first_in.set()
            release_first.wait(5)
        order.append("first out")

    def waiter() -> None:
        with getattr(lock, waiting)():
            order.append("waiter")

    def late() -> None:
        with getattr(lock, inside)():  # would share with the first, were nobody waiting
            order.append("late")

    threads = [threading.Thread(target=first)]
    threads[0].start()
    first_in.wait(5)
    threads.append(threading.Thread(target=waiter))
    threads[1].start()
    time.sleep(0.2)  # the waiter now waits, holding the turnstile
    threads.append(threading.Thread(target=late))
    threads[2].start()
    time.sleep(0.2)
    assert order == []  # the late one waits behind the waiter
    release_first.set()
    for t in threads:
        t.join(5)
    assert order == ["first out", "waiter", "late"]


def test_writers_share_in_threads_and_processes(lock, tmp_path, other_writer):
    """Docker changes do not wait for each other: dockerd does their work together."""
    inside = threading.Barrier(2, timeout=5)

    def write() -> None:
        with FirewallLock(tmp_path, timeout=0.3).writing("a container start"):
            inside.wait()

    thread = threading.Thread(target=write)
    thread.start()
    with lock.writing("a network create"):  # beside the other process's writer too
        inside.wait()
    thread.join(5)


def test_one_thread_nests_each_kind_and_may_not_take_the_other_inside_it(lock):
    with (
        lock.reading(),
        lock.reading(),
        pytest.raises(RuntimeError, match="as a writer while its thread holds it as a reader"),
        lock.writing("a"),
    ):
        pass
    with (
        lock.writing(),
        lock.writing(),
        pytest.raises(RuntimeError, match="as a reader while its thread holds it as a writer"),
        lock.reading("b"),
    ):
        pass
    with lock.writing(), lock.reading(when=False):
        pass  # a probe that takes no lock may run anywhere


def test_when_false_takes_nothing(lock, other_writer):
    with lock.writing(when=False), lock.reading(when=False):
        pass


def test_an_unwritable_directory_is_named(tmp_path):
    missing = tmp_path / "no" / "such"
    with (
        pytest.raises(FirewallLockError, match=f"cannot open the firewall lock {missing}"),
        FirewallLock(missing).reading(),
    ):
        pass
