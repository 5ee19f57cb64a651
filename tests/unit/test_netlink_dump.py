"""A netlink dump interrupted by a concurrent change is read again, not reported as an error."""

from __future__ import annotations

import errno

import pytest
from pyroute2.netlink import NLM_F_DUMP_INTR, NLM_F_MULTI
from pyroute2.netlink.exceptions import NetlinkDumpInterrupted, NetlinkError

from pytest_dockernet.engine.netns import DUMP_ATTEMPTS, dump_counts, dumped, interrupted


def test_an_interrupted_dump_is_read_again():
    calls: list[int] = []

    def read():
        calls.append(1)
        if len(calls) < 3:
            raise NetlinkDumpInterrupted()
        return iter(["lo", "eth0"])

    before = dump_counts.read_again
    assert dumped(read) == ["lo", "eth0"]
    assert len(calls) == 3
    assert dump_counts.read_again == before + 2  # the soak's figure


def test_a_dump_that_never_settles_raises():
    def read():
        raise NetlinkDumpInterrupted()

    calls: list[int] = []

    def counted():
        calls.append(1)
        return read()

    with pytest.raises(NetlinkDumpInterrupted):
        dumped(counted)
    assert len(calls) == DUMP_ATTEMPTS


def flagged(flags: int) -> dict[str, dict[str, int]]:
    """A message as pyroute2 parses it, reduced to its header's flags."""
    return {"header": {"flags": flags}}


def test_a_dump_flagged_interrupted_without_an_exception_is_read_again():
    """pyroute2 >= 0.8 raises nothing: the flag only stands in the messages' headers."""
    first = [flagged(NLM_F_MULTI), flagged(NLM_F_MULTI | NLM_F_DUMP_INTR)]
    second = [flagged(NLM_F_MULTI), flagged(NLM_F_MULTI)]
    reads = iter([first, second])
    assert dumped(lambda: next(reads)) == second
    assert interrupted(first)
    assert not interrupted(second)
    assert not interrupted(["lo"])  # not a netlink message: nothing to tell


def test_eintr_counts_as_interrupted_and_other_errors_do_not():
    calls: list[int] = []

    def read():
        calls.append(1)
        if len(calls) == 1:
            raise NetlinkError(errno.EINTR)
        return ["rule"]

    assert dumped(read) == ["rule"]
    assert len(calls) == 2

    def refused():
        raise NetlinkError(errno.EPERM)

    with pytest.raises(NetlinkError):
        dumped(refused)


def test_an_interruption_raised_after_the_messages_is_read_again():
    """pyroute2 0.7 raises NetlinkDumpInterrupted once the generator has yielded every
    message."""
    calls: list[int] = []

    def read():
        calls.append(1)
        yield "lo"
        if len(calls) == 1:
            raise NetlinkDumpInterrupted()
        yield "eth0"

    assert dumped(read) == ["lo", "eth0"]
    assert len(calls) == 2


def test_a_flag_that_never_clears_raises():
    with pytest.raises(NetlinkDumpInterrupted):
        dumped(lambda: [flagged(NLM_F_DUMP_INTR)])
