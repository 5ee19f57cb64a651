"""Without a Docker engine: one clear error for the run, and nothing touched before a test
asks for a fixture (so ``--collect-only`` and tests without the fixtures work anywhere)."""

from __future__ import annotations

import pytest

NO_ENGINE = "unix:///nonexistent/docker.sock"
TWO_TESTS = """
def test_a(dockernet):
    pass

def test_b(dockernet):
    pass

def test_plain():
    pass
"""


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", NO_ENGINE)


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["alone", "xdist"])
def test_no_engine_is_one_clear_error_that_stops_the_run(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    pytester.makepyfile(TWO_TESTS)
    result = pytester.runpytest_subprocess(*workers)
    text = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, text
    assert f"no Docker engine answers at {NO_ENGINE}" in text
    assert "point DOCKER_HOST at a running engine" in text
    assert "Traceback" not in text
    assert "INTERNALERROR" not in text
    assert "Interrupted: pytest-dockernet: no Docker engine answers" in text
    assert result.parseoutcomes().get("passed", 0) <= 1  # at most test_plain ran


def test_no_engine_does_not_matter_to_tests_without_the_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain(): pass")
    pytester.runpytest_subprocess().assert_outcomes(passed=1)


def test_collect_only_touches_no_engine(pytester: pytest.Pytester) -> None:
    """The engine is first asked when a test needs a fixture: collecting never does."""
    pytester.makepyfile(TWO_TESTS)
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*3 tests collected*"])
    assert "Docker" not in result.stdout.str()
