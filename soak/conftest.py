"""The soak run: how many topologies, and where each worker writes what its verdicts were."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak-count", type=int, default=300, help="topologies to build")
    parser.addoption("--soak-log", default="soak-verdicts.jsonl", help="one line per test")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "round_" in metafunc.fixturenames:
        metafunc.parametrize("round_", range(metafunc.config.getoption("soak_count")))


@pytest.fixture
def verdicts(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """Counts of one test's verdicts, appended to the run's log as a JSON line."""
    counts: dict[str, int] = {"given": 0, "reported_churn": 0, "repeated": 0}
    yield counts
    log = Path(request.config.getoption("soak_log"))
    with log.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"test": request.node.nodeid, "pid": os.getpid(), **counts}) + "\n")
