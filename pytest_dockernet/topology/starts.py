"""Waiting for the background starts of a DockerNet's containers.

Example::

    with dockernet.parallel():
        hosts = [dockernet.container(f"h{i}", net) for i in range(8)]
    assert dockernet.start_errors() == []
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..model import Registry


@contextlib.contextmanager
def parallel(registry: Registry) -> Iterator[None]:
    """Every start already runs in the background; at the end of this block, the
    containers declared in it run (a failed start raises there). Kept for suites that
    used it to overlap starts.

    Example::

        with dockernet.parallel():
            hosts = [dockernet.container(f"h{i}", net) for i in range(8)]
    """
    before = set(registry.containers)
    yield
    for name, made in list(registry.containers.items()):
        if name not in before:
            made.wait_started()


def start_errors(registry: Registry) -> list[BaseException]:
    """Wait for every background start; the errors of those that failed and that the test
    never saw (it did not use the container).

    Example::

        assert dockernet.start_errors() == []
    """
    errors = []
    for made in list(registry.containers.values()):
        starting = made.starting
        if starting is None or starting.cancelled():
            continue
        error = starting.exception()
        if error is not None and not made.failure_seen:
            made.failure_seen = True
            errors.append(error)
    return errors
