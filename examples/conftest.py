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
