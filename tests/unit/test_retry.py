"""``within=``: tried again until it holds, and a failure that lists the attempts."""

from __future__ import annotations

import pytest

from pytest_dockernet.retry import check_within, until_holds


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
