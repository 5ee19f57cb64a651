"""Which engines may remove a network's containers concurrently (moby/moby#42119)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from pytest_dockernet.engine.teardown import removes_concurrently


@pytest.mark.parametrize(
    ("api_version", "together"),
    [
        ("1.41", False),  # 20.10
        ("1.45", False),  # 26.1
        ("1.47", False),  # 27.x
        ("1.48", True),  # 28.0
        ("1.51", True),  # 28.5
        ("1.52", True),  # 29
        ("2.0", True),
        ("auto", False),  # not negotiated: the safe order
    ],
)
def test_containers_of_one_network_go_together_from_docker_28(api_version, together):
    client = SimpleNamespace(api=SimpleNamespace(api_version=api_version))
    assert removes_concurrently(client) is together  # type: ignore[arg-type]
