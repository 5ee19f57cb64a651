"""The layer contract covers the whole package, and the package docstring draws the same map.

``lint-imports`` (CI's lint step) fails when a module imports a layer above its own; these
tests keep its list of layers complete, so that a new module cannot sit outside the contract.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import pytest_dockernet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 has no TOML reader of its own
    tomllib = pytest.importorskip("tomli")

ROOT = Path(pytest_dockernet.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"
CONTRIBUTING = ROOT.parent / "CONTRIBUTING.md"


def layers() -> list[list[str]]:
    config = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]
    (contract,) = config["contracts"]
    return [
        [name.strip().removeprefix("pytest_dockernet.") for name in layer.split("|")]
        for layer in contract["layers"]
    ]


def test_every_module_of_the_package_root_is_in_one_layer() -> None:
    members = sorted(
        p.stem if p.is_file() else p.name
        for p in ROOT.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()
    )
    listed = sorted(name for layer in layers() for name in layer)
    assert listed == members


def test_the_package_docstring_draws_the_layers_in_the_contracts_order() -> None:
    drawn = re.findall(
        r"^    ([a-z][a-z, /]*?)/?(?:\s{2,}|$)", pytest_dockernet.__doc__ or "", re.M
    )
    names = [[n.strip().rstrip("/") for n in line.split(",")] for line in drawn]
    assert names == layers()


def test_the_package_root_holds_at_most_eight_modules() -> None:
    assert len(list(ROOT.glob("*.py"))) <= 8


def test_contributing_draws_the_layers_in_the_contracts_order() -> None:
    table = CONTRIBUTING.read_text().split("| layer | what it holds |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1] for line in table.splitlines()[2:]]
    names = [[n.strip(" `").removesuffix(".py").rstrip("/") for n in r.split(",")] for r in rows]
    assert names == layers()
