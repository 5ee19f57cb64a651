"""Without the testinfra extra, container.host says how to get it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from pytest_dockernet.engine.hosts import INSTALL, host_over
from tests.unit import values


def test_missing_testinfra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "testinfra", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'pytest-dockernet\[testinfra\]'"):
        host_over("0123456789ab")
    assert "pytest-dockernet[testinfra]" in INSTALL


def test_container_host_without_testinfra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    c = values.container(values.registry(), "web", {})
    monkeypatch.setitem(sys.modules, "testinfra", None)
    with pytest.raises(ImportError, match=r"pip install 'pytest-dockernet\[testinfra\]'"):
        _ = c.host


def test_container_host_wants_a_started_container(monkeypatch: pytest.MonkeyPatch) -> None:
    """A container that never ran says so, before anything about testinfra."""
    never = dataclasses.replace(values.container(values.registry(), "web", {}), state=None)
    monkeypatch.setitem(sys.modules, "testinfra", None)
    with pytest.raises(ValueError, match="never started"):
        _ = never.host


def test_the_package_imports_without_testinfra() -> None:
    code = "import sys; sys.modules['testinfra'] = None; import pytest_dockernet"
    subprocess.run([sys.executable, "-c", code], check=True)
