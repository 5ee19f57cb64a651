"""tox.ini's lowest environment pins exactly the lower bounds that pyproject.toml declares.

A bound raised in pyproject.toml without the pin (or the reverse) would leave the lowest
environment testing versions nobody declared; this test fails first, naming both.
"""

from __future__ import annotations

import configparser
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no TOML reader of its own
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[2]


def declared_lower_bounds() -> dict[str, Version]:
    """Each requirement of [project].dependencies and the test extra, at its ``>=`` bound."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    bounds: dict[str, Version] = {}
    for line in project["dependencies"] + project["optional-dependencies"]["test"]:
        req = Requirement(line)
        lower = [s.version for s in req.specifier if s.operator == ">="]
        assert len(lower) == 1, f"{line!r}: one lower bound (>=) wanted, for tox's lowest env"
        bounds[canonicalize_name(req.name)] = Version(lower[0])
    return bounds


def lowest_env_pins() -> dict[str, Version]:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "tox.ini")
    pins: dict[str, Version] = {}
    for line in ini["testenv:lowest"]["deps"].split("\n"):
        if not line.strip():
            continue
        req = Requirement(line.strip())
        exact = [s.version for s in req.specifier if s.operator == "=="]
        assert len(exact) == 1 and len(req.specifier) == 1, f"{line!r}: an exact pin (==) wanted"
        pins[canonicalize_name(req.name)] = Version(exact[0])
    return pins


def test_lowest_env_pins_every_declared_lower_bound() -> None:
    assert lowest_env_pins() == declared_lower_bounds()


def test_lowest_env_runs_the_unit_tests_and_the_examples() -> None:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(ROOT / "tox.ini")
    commands = ini["testenv:lowest"]["commands"].split("\n")
    assert "pytest tests/unit {posargs}" in commands
    assert "pytest examples -v {posargs}" in commands
