"""A probe's outcome as a value, for tests that compare the plugin's network with a plain
docker one (or pin an outcome per engine): each is read through the plugin's assertions, and
whichever way it goes, the opposite assertion must hold, so a probe that neither passes nor
fails cleanly still fails the test."""

from __future__ import annotations

from pytest_dockernet import (
    assert_port_closed,
    assert_port_open,
    assert_reachable,
    assert_unreachable,
)

# The negative assertion goes first: it passes after one timeout, or fails at the first answer,
# while a failed positive one would send the probe again to name the dropping rule and trace it.


def answers_ping(src, dst, timeout: float = 0.5) -> bool:
    try:
        assert_unreachable(src, dst, timeout=timeout)
    except AssertionError:
        assert_reachable(src, dst, timeout=timeout)
        return True
    return False


def port_opens(src, dst, port: int, timeout: float = 0.5) -> bool:
    try:
        assert_port_closed(src, dst, port, timeout=timeout)
    except AssertionError:
        assert_port_open(src, dst, port, timeout=timeout)
        return True
    return False
