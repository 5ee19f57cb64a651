"""pytest-dockernet: throwaway Docker bridge topologies and assertions on what the kernel did.

The modules are layered, and each imports only from the layers below it:

    plugin                      pytest hooks and thin fixtures
    session                     one run's factory of DockerNets
    topology/                   the DockerNet facade; one module per resource it creates or reads
                                (existing ones, Compose projects)
    assertions, matrix          assert_* and the all-pairs view
    trace                       the hop-by-hop walk of one probe
    port_probes, probes         where a probe starts and goes; guard, ping, ports, arrival
    model                       values: Network, Container, Upstream, Registry, argument types
    observe/                    read-only facts from the kernel and the firewall
    engine, teardown, images, addressing, labels, netns, settings, errors, version
"""

from __future__ import annotations

import pytest

from .version import __version__

pytest.register_assert_rewrite("pytest_dockernet.assertions")

from . import assertions  # noqa: E402  (after the rewrite hook is registered)
from .assertions import *  # noqa: E402, F403  (every assert_*: their list is assertions.__all__)
from .errors import ComposeError, DockernetError  # noqa: E402
from .matrix import Reachability, assert_reachability  # noqa: E402
from .model import Container, Network, Upstream  # noqa: E402
from .observe.ports import PortResult  # noqa: E402
from .probes import host_veth  # noqa: E402
from .topology import ComposeProject, DockerNet  # noqa: E402
from .topology.listeners import Listener  # noqa: E402
from .trace import Hop, Trace  # noqa: E402

__all__ = [
    "ComposeError",
    "ComposeProject",
    "Container",
    "DockerNet",
    "DockernetError",
    "Hop",
    "Listener",
    "Network",
    "PortResult",
    "Reachability",
    "Trace",
    "Upstream",
    "__version__",
    "assert_reachability",
    "host_veth",
]
__all__ += assertions.__all__
