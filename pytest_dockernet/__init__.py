"""pytest-dockernet: throwaway Docker bridge topologies and assertions on what the kernel did.

The package is layered; a module imports only from the layers below its own, and CI checks
it (``lint-imports``, the contract in ``pyproject.toml``). Top to bottom:

    plugin          pytest hooks and thin fixtures
    report/         what a person looks at: --dockernet-report, each test's topology and
                    probes drawn by Graphviz in one HTML page (picture, page, the writer
                    plugin), and the dockernet-diff command (--html: what changed, drawn)
    topology/       the factory: the DockerNet facade, one module per resource it creates or
                    reads (networks, containers, routers, upstreams, existing ones, Compose
                    projects), and the run's factory of DockerNets
    assertions/     every assert_*, one module per kind of fact, assert_reachability included
    record/         what the assertions observed, what a test held as plain data (snapshot),
                    the record file and the compare plugin
    probing/        where a probe goes (destinations, the outside-traffic guard), ping, ports,
                    the churn re-probe, trace, diagnosis, the all-pairs matrix
    observe/        read-only facts from the kernel and the firewall
    model/          values: Network, Container, Upstream, Registry; argument types
    engine/         the Docker client, images, labels, namespaces, the firewall lock, teardown
    settings        the run's options
    addressing      subnets and addresses as values
    retry, version  waiting (within=, wait_until), the package version
    errors          the exceptions that are not test failures
"""

from __future__ import annotations

import pytest

from .version import __version__

pytest.register_assert_rewrite("pytest_dockernet.assertions")

from . import assertions  # noqa: E402  (after the rewrite hook is registered)
from .assertions import *  # noqa: E402, F403  (every assert_*: their list is assertions.__all__)
from .errors import ComposeError, DockernetError  # noqa: E402
from .model import Container, Network, Upstream  # noqa: E402
from .observe.ports import PortResult  # noqa: E402
from .probing.matrix import Reachability  # noqa: E402
from .probing.trace import Hop, Trace  # noqa: E402
from .probing.veths import host_veth  # noqa: E402
from .topology import ComposeProject, DockerNet  # noqa: E402
from .topology.listeners import Listener  # noqa: E402

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
    "host_veth",
]
__all__ += assertions.__all__
