"""The installed distribution's version, read once from its metadata (pyproject is the source)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pytest-dockernet")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"
