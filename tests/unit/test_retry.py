"""``within=``: tried again until it holds, and a failure that lists the attempts;
``wait_until``: the first truthy result, or a WaitTimeout naming what was awaited."""

from __future__ import annotations

import re
import time

import pytest

from pytest_dockernet.errors import DockernetError, WaitTimeout
from pytest_dockernet.retry import NotYet, check_within, until_holds, wait_until


def test_once_without_within() -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        raise AssertionError("down")

    with pytest.raises(AssertionError, match="^down$"):
        until_holds(check, None)
    assert calls == [1]


def test_holds_on_a_later_attempt() -> None:
    left = [3]

    def check() -> str:
        left[0] -= 1
        if left[0]:
            raise AssertionError("not yet")
        return "up"

    assert until_holds(check, 5) == "up"
    assert left == [0]


def test_failure_lists_attempts_folded() -> None:
    def check() -> None:
        raise AssertionError("refused\ndetail line")

    with pytest.raises(AssertionError) as info:
        until_holds(check, 0.35)
    text = str(info.value)
    assert text.startswith("did not hold within 0.35 s (")
    assert "refused\ndetail line" in text
    assert "earlier attempts" in text and "x, 0.00-" in text


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        until_holds(check, 5)
    assert calls == [1]


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "1"])
def test_bad_within_names_the_value(bad: object) -> None:
    with pytest.raises(ValueError, match="within must be None"):
        check_within(bad)


def test_wait_until_returns_the_first_truthy_result() -> None:
    results = iter([None, False, NotYet("starting"), "up", "later"])
    assert wait_until(lambda: next(results), 5, "the service", interval=0.001) == "up"
    assert next(results) == "later"  # asked no more after it held


def test_wait_until_names_what_it_waited_for_the_timeout_and_the_last_look() -> None:
    seen = iter(["DOWN", "LOWERLAYERDOWN"] + ["UNKNOWN"] * 1000)

    def up() -> bool | NotYet:
        return NotYet(f"operstate {next(seen)}")

    with pytest.raises(WaitTimeout) as info:
        wait_until(up, 0.05, "veth0 to be up", interval=0.01)
    assert re.fullmatch(
        r"waited 0\.05 s for veth0 to be up, in vain \(\d+ looks\); the last saw operstate "
        r"UNKNOWN",
        str(info.value),
    )
    assert isinstance(info.value, DockernetError)
    assert not isinstance(info.value, AssertionError)  # a slow machine, not a failed test


def test_wait_until_without_a_notyet_says_only_what_and_how_long() -> None:
    with pytest.raises(WaitTimeout, match=r"^waited 0 s for the pool, in vain \(1 look\)$"):
        wait_until(lambda: None, 0, "the pool")


def test_wait_until_does_not_sleep_after_success(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    results = iter([False, False, True])
    assert wait_until(lambda: next(results), 60, "the third look", interval=7) is True
    assert sleeps == [7, 7]


def test_wait_until_lets_a_predicates_exception_through_at_once() -> None:
    calls: list[int] = []

    def died() -> bool:
        calls.append(1)
        raise RuntimeError("container exited with 3")

    with pytest.raises(RuntimeError, match="exited with 3"):
        wait_until(died, 5, "the container to run")
    assert calls == [1]


@pytest.mark.parametrize(
    ("timeout", "interval", "message"),
    [
        (float("nan"), 0.1, "timeout must be a number of seconds >= 0, got nan"),
        (-1, 0.1, "timeout must be a number of seconds >= 0, got -1"),
        (1, float("inf"), "interval must be a number of seconds >= 0, got inf"),
    ],
)
def test_wait_until_refuses_a_bad_timeout_or_interval(
    timeout: float, interval: float, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        wait_until(lambda: True, timeout, "anything", interval=interval)
