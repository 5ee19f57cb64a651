"""pytest-dockernet: throwaway Docker bridge topologies and assertions on what the kernel did."""

from __future__ import annotations

import pytest

__version__ = "0.1.0"

pytest.register_assert_rewrite("pytest_dockernet.assertions")

from .assertions import (  # noqa: E402  (after the rewrite hook is registered)
    assert_bridge_members,
    assert_host_route,
    assert_masquerade,
    assert_no_masquerade,
    assert_no_snat,
    assert_path,
    assert_reachable,
    assert_route,
    assert_snat,
    assert_unreachable,
)
from .errors import DockernetError  # noqa: E402
from .matrix import Reachability, assert_reachability  # noqa: E402
from .topology import Container, DockerNet, Network  # noqa: E402
from .trace import Hop, Trace, host_veth  # noqa: E402
from .upstream import Upstream  # noqa: E402

__all__ = [
    "Container",
    "DockerNet",
    "DockernetError",
    "Hop",
    "Network",
    "Reachability",
    "Trace",
    "Upstream",
    "__version__",
    "assert_bridge_members",
    "assert_host_route",
    "assert_masquerade",
    "assert_no_masquerade",
    "assert_no_snat",
    "assert_path",
    "assert_reachability",
    "assert_reachable",
    "assert_route",
    "assert_snat",
    "assert_unreachable",
    "host_veth",
]
