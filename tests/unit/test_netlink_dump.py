"""A netlink dump interrupted by a concurrent change is read again, not reported as an error."""

from __future__ import annotations

import pytest
from pyroute2.netlink.exceptions import NetlinkDumpInterrupted

from pytest_dockernet.netns import DUMP_ATTEMPTS, dumped


def test_an_interrupted_dump_is_read_again():
    calls: list[int] = []

    def read():
        calls.append(1)
        if len(calls) < 3:
            raise NetlinkDumpInterrupted()
        return iter(["lo", "eth0"])

    assert dumped(read) == ["lo", "eth0"]
    assert len(calls) == 3


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
