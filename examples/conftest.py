"""The examples run on the built-in busybox image, or on any image named by EXAMPLES_IMAGE.

``EXAMPLES_IMAGE`` lets the project's own tests run the same scenarios on an image holding a
single binary (no shell, no ``ip``, no ``ping``), to show the checks need nothing inside it.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def image() -> str | None:
    return os.environ.get("EXAMPLES_IMAGE") or None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The seed's subnets are fixed (10.231.1.0/24, 10.231.2.0/24): never run two at once."""
    for item in items:
        if "examples" in item.nodeid:
            item.add_marker(pytest.mark.serial)
