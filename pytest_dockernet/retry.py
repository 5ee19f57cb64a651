"""Waiting, once: ``within=`` on an assertion, and :func:`wait_until` for the plugin's own waits.

A stack is "up" before its services listen, a route before its neighbour answers ARP: a gate
that checks once flakes at start. Every reachability, port and DNS assertion takes
``within=SECONDS`` and runs through :func:`until_holds`, whose failure lists every attempt.
What the plugin and its tests wait for (a link up, a service healthy, a pool filled) goes
through :func:`wait_until`, which raises naming what it waited for. Both poll on one clock, so
the two cannot drift apart, and nothing else in the package or its tests polls by hand.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar

from .errors import WaitTimeout

T = TypeVar("T")
PAUSE = 0.1
"""Seconds between attempts: long enough not to spin, short next to any service's start."""


def check_within(within: object) -> float | None:
    """None (one attempt) or a finite number of seconds >= 0."""
    if within is None:
        return None
    return _seconds(within, "within must be None (check once) or")


def _seconds(value: object, must: str) -> float:
    """``value`` as a float when it is a finite number >= 0; a ValueError saying what
    ``must`` be otherwise."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{must} a number of seconds >= 0, got {value!r}")
    return float(value)


def _attempts(within: float, pause: float) -> Iterator[float]:
    """Yield the seconds since the first attempt, once per attempt; the next comes ``pause``
    later, as long as it would start within ``within`` seconds. The caller stops iterating when
    an attempt succeeds, so nothing sleeps after a success."""
    start = time.monotonic()
    while True:
        yield time.monotonic() - start
        if time.monotonic() - start + pause > within:
            return
        time.sleep(pause)


def until_holds(check: Callable[[], T], within: float | None) -> T:
    """``check()``'s result once it raises no AssertionError; tried again until ``within``
    seconds have passed since the first attempt (None: once).

    When it never holds, the AssertionError carries the last attempt's whole message and one
    line for each earlier attempt.
    """
    __tracebackhide__ = True
    within = check_within(within)
    if within is None:
        return check()
    attempts: list[tuple[float, str]] = []
    for at in _attempts(within, PAUSE):
        try:
            return check()
        except AssertionError as exc:
            attempts.append((at, str(exc)))
    raise AssertionError(describe(attempts, within)) from None


def describe(attempts: list[tuple[float, str]], within: float) -> str:
    """The message of an assertion that did not hold within ``within`` seconds."""
    last_at, last = attempts[-1]
    lines = [
        f"did not hold within {within:g} s ({len(attempts)} attempt"
        f"{'s' if len(attempts) != 1 else ''}); the last, at {last_at:.2f} s:",
        last,
    ]
    if len(attempts) > 1:
        lines.append("earlier attempts (the same first line once per run):")
        runs: list[tuple[float, float, int, str]] = []
        for at, text in attempts[:-1]:
            first = text.splitlines()[0] if text else ""
            if runs and runs[-1][3] == first:
                runs[-1] = (runs[-1][0], at, runs[-1][2] + 1, first)
            else:
                runs.append((at, at, 1, first))
        for begin, end, count, first in runs:
            when = f"at {begin:.2f} s" if count == 1 else f"{count}x, {begin:.2f}-{end:.2f} s"
            lines.append(f"  {when}: {first}")
    return "\n".join(lines)


@dataclass(frozen=True)
class NotYet:
    """A predicate's "no" that says what it saw, for :func:`wait_until`'s message: it is falsy,
    so ``return done or NotYet(f"operstate {state}")`` reads as the condition it waits for."""

    seen: str

    def __bool__(self) -> Literal[False]:
        return False


def wait_until(
    predicate: Callable[[], T | NotYet | Literal[False] | None],
    timeout: float,
    what: str,
    *,
    interval: float = PAUSE,
) -> T:
    """``predicate()``'s first truthy result, asked every ``interval`` seconds until
    ``timeout`` seconds have passed since the first call (``timeout=0``: once).

    A falsy result (None, False, or a :class:`NotYet` saying what was seen) means "not yet".
    An exception from the predicate is not retried: it propagates at once, so that a wait
    that cannot succeed any more (a container that exited, a pool that failed) fails fast;
    a predicate that must outlast an error (an engine restarting) catches it and returns
    ``NotYet(str(exc))``.

    On timeout it raises :class:`~pytest_dockernet.errors.WaitTimeout`, a DockernetError and
    not an AssertionError: a wait for Docker or the kernel that runs out says the machine was
    slow or stuck, not that the topology under test is wrong. The message names ``what``
    (it completes "waited N s for ..."), the timeout, the number of looks and the last
    :class:`NotYet`'s ``seen``.

    Example::

        from pytest_dockernet.retry import NotYet, wait_until

        def up() -> bool | NotYet:
            state = operstate(ifname)
            return state == "UP" or NotYet(f"operstate {state}")

        wait_until(up, 3, f"{ifname} to be up", interval=0.01)
        # WaitTimeout: waited 3 s for dnu1a2b3c4d to be up, in vain (301 looks); the last
        # saw operstate DOWN
    """
    timeout = _seconds(timeout, "timeout must be")
    interval = _seconds(interval, "interval must be")
    looks = 0
    seen = ""
    for _ in _attempts(timeout, interval):
        result = predicate()
        if result:
            return result
        looks += 1
        seen = result.seen if isinstance(result, NotYet) else ""
    last = f"; the last saw {seen}" if seen else ""
    raise WaitTimeout(
        f"waited {timeout:g} s for {what}, in vain ({looks} look{'s' if looks != 1 else ''}){last}"
    )
