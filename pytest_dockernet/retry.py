"""``within=``: an assertion tried again until it holds or its time runs out.

A stack is "up" before its services listen, a route before its neighbour answers ARP: a gate
that checks once flakes at start. Every reachability, port and DNS assertion takes
``within=SECONDS`` and runs through :func:`until_holds`, whose failure lists every attempt.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PAUSE = 0.1
"""Seconds between attempts: long enough not to spin, short next to any service's start."""


def check_within(within: object) -> float | None:
    """None (one attempt) or a finite number of seconds >= 0."""
    if within is None:
        return None
    if (
        isinstance(within, bool)
        or not isinstance(within, (int, float))
        or not math.isfinite(within)
        or within < 0
    ):
        raise ValueError(
            f"within must be None (check once) or a number of seconds >= 0, got {within!r}"
        )
    return float(within)


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
    start = time.monotonic()
    attempts: list[tuple[float, str]] = []
    while True:
        at = time.monotonic() - start
        try:
            return check()
        except AssertionError as exc:
            attempts.append((at, str(exc)))
        if time.monotonic() - start + PAUSE > within:
            break
        time.sleep(PAUSE)
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
