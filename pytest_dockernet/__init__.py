"""pytest-dockernet: throwaway Docker bridge topologies and assertions on what the kernel did.

The modules are layered, and each imports only from the layers below it:

    plugin                      pytest hooks and thin fixtures
    session                     one run's factory of DockerNets
    topology/                   the DockerNet facade; one module per resource it creates
    assertions, matrix          assert_* and the all-pairs view
    trace                       the hop-by-hop walk of one probe
    probes                      destination resolver, outside-traffic guard, ping, arrival
    model                       values: Network, Container, Upstream, Registry, argument types
    observe/                    read-only facts from the kernel and the firewall
    engine, teardown, images, addressing, labels, netns, settings, errors, version
"""

from __future__ import annotations

import pytest

from .version import __version__

pytest.register_assert_rewrite("pytest_dockernet.assertions")

from .assertions import (  # noqa: E402  (after the rewrite hook is registered)
    assert_bridge_members,
    assert_host_route,
    assert_masquerade,
    assert_no_masquerade,
    assert_no_snat,
    assert_path,
    assert_port_closed,
    assert_port_open,
    assert_reachable,
    assert_route,
    assert_snat,
    assert_unreachable,
)
from .errors import DockernetError  # noqa: E402
from .matrix import Reachability, assert_reachability  # noqa: E402
from .model import Container, Network, Upstream  # noqa: E402
from .probes import host_veth  # noqa: E402
from .topology import DockerNet  # noqa: E402
from .trace import Hop, Trace  # noqa: E402

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
    "assert_port_closed",
    "assert_port_open",
    "assert_reachability",
    "assert_reachable",
    "assert_route",
    "assert_snat",
    "assert_unreachable",
    "host_veth",
]
