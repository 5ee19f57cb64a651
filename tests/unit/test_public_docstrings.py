"""Every public name has a docstring with an example: the reference pages are made of them.

docs/reference/ is generated from these docstrings (mkdocstrings); a name without one would
show in the reference as a bare signature.
"""

from __future__ import annotations

import inspect

import pytest

import pytest_dockernet
from pytest_dockernet import plugin

FIXTURES = [
    "dockernet",
    "dockernet_session",
    "dockernet_factory",
    "dockernet_compose",
    "dockernet_compose_file",
    "dockernet_compose_project",
]
VALUES = [
    "DockerNet",
    "Container",
    "Network",
    "Upstream",
    "ComposeProject",
    "Listener",
    "PortResult",
    "Reachability",
    "Trace",
    "Hop",
]


def docstring(obj: object) -> str:
    return inspect.getdoc(getattr(obj, "__wrapped__", obj)) or ""


@pytest.mark.parametrize("name", sorted(set(pytest_dockernet.__all__) - {"__version__"}))
def test_every_exported_name_has_an_example(name: str) -> None:
    assert "Example:" in docstring(getattr(pytest_dockernet, name)), name


@pytest.mark.parametrize("name", FIXTURES)
def test_every_fixture_has_an_example(name: str) -> None:
    assert "Example:" in docstring(getattr(plugin, name)), name


@pytest.mark.parametrize("name", VALUES)
def test_every_public_method_and_property_of_a_value_is_documented(name: str) -> None:
    cls = getattr(pytest_dockernet, name)
    missing = [
        member
        for member, value in vars(cls).items()
        if not member.startswith("_")
        and (callable(value) or isinstance(value, property))
        and not docstring(value)
    ]
    assert not missing, f"{name}: {missing}"
