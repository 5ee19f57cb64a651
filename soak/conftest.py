"""The soak run: how many topologies, and where each worker writes what its verdicts were."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_dockernet.engine.netns import dump_counts


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak-count", type=int, default=300, help="topologies to build")
    parser.addoption("--soak-log", default="soak-verdicts.jsonl", help="one line per test")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "round_" in metafunc.fixturenames:
        metafunc.parametrize("round_", range(metafunc.config.getoption("soak_count")))


@pytest.fixture
def verdicts(request: pytest.FixtureRequest) -> Iterator[dict[str, int]]:
    """Counts of one test's verdicts, and of the netlink dumps its process read again meanwhile
    (other workers' tests count too), appended to the run's log as a JSON line."""
    counts: dict[str, int] = {
        "given": 0,
        "reported_churn": 0,
        "churn_from_plugin": 0,
        "repeated": 0,
    }
    read_again, gave_up = dump_counts.read_again, dump_counts.gave_up
    yield counts
    counts["read_again"] = dump_counts.read_again - read_again
    counts["gave_up"] = dump_counts.gave_up - gave_up
    log = Path(request.config.getoption("soak_log"))
    with log.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"test": request.node.nodeid, "pid": os.getpid(), **counts}) + "\n")
