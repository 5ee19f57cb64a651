"""tests/engine/conftest.py where no engine answers: the engine tests skip with one reason, and
where ``DOCKERNET_REQUIRE_ENGINE`` is set they fail and stop the run instead (CI's gate).

Each case runs the real tests/engine/test_matrix.py in a child pytest pointed at a socket that
does not exist, so nothing reaches an engine even on a machine that has one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ENGINE_TESTS = Path(__file__).resolve().parents[1] / "engine"
MATRIX = ENGINE_TESTS / "test_matrix.py"
NO_ENGINE = "unix:///nonexistent/docker.sock"
REASON = f"no Docker engine answers at {NO_ENGINE} (set DOCKERNET_REQUIRE_ENGINE=1 to make that an error)"


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)
    monkeypatch.delenv("DOCKERNET_REQUIRE_ENGINE", raising=False)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(str(MATRIX), "-p", "no:cacheprovider", *args)


def engine_test_count(pytester: pytest.Pytester) -> int:
    result = pytester.runpytest_subprocess(str(MATRIX), "-p", "no:cacheprovider", "--co", "-q")
    return sum(1 for line in result.outlines if line.startswith("tests/engine/test_matrix.py::"))


@pytest.mark.parametrize("required", [None, "0", "false"])
def test_without_an_engine_every_engine_test_skips_for_one_reason(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, required: str | None
) -> None:
    if required is not None:
        monkeypatch.setenv("DOCKERNET_REQUIRE_ENGINE", required)
    count = engine_test_count(pytester)
    assert count >= 4
    result = run(pytester, "-p", "no:xdist")
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.OK, text
    result.assert_outcomes(skipped=count)
    skips = [line for line in result.outlines if line.startswith("SKIPPED ")]
    assert len(skips) == 1, skips  # test_matrix.py has no parametrized tests: one line folds all
    assert re.fullmatch(
        rf"SKIPPED \[{count}\] \S*tests/engine/test_matrix\.py: {re.escape(REASON)}", skips[0]
    ), skips
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("required", "workers"),
    [("1", ["-p", "no:xdist"]), ("1", ["-n", "2"]), ("Yes", ["-p", "no:xdist"])],
    ids=["alone", "xdist", "any-true-value"],
)
def test_a_required_engine_that_is_missing_fails_and_stops_the_run(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    required: str,
    workers: list[str],
) -> None:
    monkeypatch.setenv("DOCKERNET_REQUIRE_ENGINE", required)
    result = run(pytester, *workers)
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    outcomes = result.parseoutcomes()
    assert outcomes.get("skipped", 0) == 0, text
    assert outcomes.get("passed", 0) == 0, text
    assert 1 <= outcomes.get("errors", outcomes.get("error", 0)) <= 2, text  # one per worker
    assert (
        f"DOCKERNET_REQUIRE_ENGINE is set, and no Docker engine answers at {NO_ENGINE}: the "
        "engine tests cannot run, and do not skip where an engine is required." in text
    )
    assert "point DOCKER_HOST at a running engine" in text
    assert "Interrupted: pytest-dockernet tests: DOCKERNET_REQUIRE_ENGINE is set" in text
    assert "Traceback" not in text
    assert "INTERNALERROR" not in text
