"""Without the testinfra extra, container.host says how to get it."""

from __future__ import annotations

import sys

import pytest

from pytest_dockernet.hosts import INSTALL, host_over


def test_missing_testinfra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "testinfra", None)  # import now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'pytest-dockernet\[testinfra\]'"):
        host_over("0123456789ab")
    assert "pytest-dockernet[testinfra]" in INSTALL


def test_the_package_imports_without_testinfra() -> None:
    import subprocess

    code = "import sys; sys.modules['testinfra'] = None; import pytest_dockernet"
    subprocess.run([sys.executable, "-c", code], check=True)
