"""What only the examples need: they run one at a time.

Their ``image`` fixture (the built-in busybox, or any image named by EXAMPLES_IMAGE) is in the
repository's top-level conftest.py, shared with tests/.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The seed's subnets are fixed (10.231.1.0/24, 10.231.2.0/24): never run two at once."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.serial)
