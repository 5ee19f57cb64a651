"""The engine tests skip, all for one reason, where no Docker engine answers.

Unless ``DOCKERNET_REQUIRE_ENGINE`` is set (CI sets it to 1; any value but "", "0", "false" and
"no" counts): then a missing engine fails the first engine test to run, with the reason and no
traceback, and stops the whole run there (under xdist too), because a gate must never go green
by skipping.

The engine is asked once per process, after deselection, and only when a test of this directory
was selected; ``pytest tests/unit`` never loads this file.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_dockernet.engine.client import DEFAULT_HOST, START_HINT, engine_answers
from tests.engine.plain import Plain

HERE = Path(__file__).resolve().parent
REQUIRE = "DOCKERNET_REQUIRE_ENGINE"
MISSING = pytest.StashKey[str]()
"""Why the engine tests cannot run although the engine is required."""


def engine_required() -> bool:
    return os.environ.get(REQUIRE, "").strip().lower() not in ("", "0", "false", "no")


@pytest.hookimpl(trylast=True)  # after -m/-k deselected what will not run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ours = [item for item in items if HERE in item.path.resolve().parents]
    if not ours:
        return
    url = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    if engine_answers(url):
        return
    if engine_required():
        config.stash[MISSING] = (
            f"{REQUIRE} is set, and no Docker engine answers at {url}: the engine tests "
            f"cannot run, and do not skip where an engine is required.\n{START_HINT}"
        )
        return
    # A skip mark is applied before any fixture reaches for the engine (a session-scoped
    # ``client`` would otherwise error first).
    skip = pytest.mark.skip(
        reason=f"no Docker engine answers at {url} (set {REQUIRE}=1 to make that an error)"
    )
    for item in ours:
        item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)  # before any fixture of the test is set up
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Where the engine is required and missing: fail, and end the run (an xdist worker's
    ``shouldstop`` ends the whole run, as the plugin's own no-engine error does)."""
    missing = item.config.stash.get(MISSING, None)
    if missing is not None:
        item.session.shouldstop = f"pytest-dockernet tests: {missing.splitlines()[0]}"
        pytest.fail(missing, pytrace=False)


@pytest.fixture(params=["default", "one-binary"])
def pick_image(request: pytest.FixtureRequest, bare_image: str) -> str | None:
    """The built-in busybox (None), and an image holding one binary: a check that passes on
    both needs nothing in the image (no server, no resolver tool, no ping)."""
    return None if request.param == "default" else bare_image


@pytest.fixture
def plain(client, dockernet) -> Iterator[Plain]:
    """The plain-docker side of the faithfulness tests, labelled and named like the plugin's
    resources of this test (``tests/engine/plain.py``)."""
    made = Plain(client, dockernet.identity, dockernet.scope, dockernet.image)
    try:
        yield made
    finally:
        problems = made.close()
        assert not problems, f"plain docker resources left behind: {problems}"
