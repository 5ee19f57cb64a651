"""Many small topologies at once: CI runs this file under ``pytest -n 4``.

Each test allocates its own subnets from the shared pool; parallel workers must never get
the same subnet, the same name, or remove each other's resources.
"""

from __future__ import annotations

import pytest

from pytest_dockernet import assert_bridge_members, assert_reachable, assert_unreachable


@pytest.mark.parametrize("n", range(40))
def test_parallel_topologies(dockernet, n):
    a, b = dockernet.network("a"), dockernet.network("b")
    assert not a.subnet.overlaps(b.subnet)
    c1 = dockernet.container("c1", networks=[a])
    c2 = dockernet.container("c2", networks=[a, b])
    c3 = dockernet.container("c3", networks=[b])
    assert_bridge_members(a, [c1, c2], exact=True)
    assert_bridge_members(b, [c2, c3], exact=True)
    assert_reachable(c1, "c2")
    assert_reachable(c3, c2)
    assert_unreachable(c1, a.subnet.broadcast_address - 1, timeout=0.2)  # no host there
