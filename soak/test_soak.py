"""Isolation and reachability asserted in many small topologies at once, beside a process that
keeps creating and removing networks (``scripts/soak``).

Each verdict is right, or reported as churn (FirewallChurnError): a wrong verdict fails the
test. Churn that names a process of the plugin as its source would mean the firewall lock
failed. Counts go to the log that ``scripts/soak`` sums up.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_dockernet import assert_path, assert_reachable, assert_unreachable
from pytest_dockernet.errors import FirewallChurnError


def check(verdicts: dict[str, int], assertion: Callable[[], None]) -> None:
    try:
        assertion()
        verdicts["given"] += 1
    except FirewallChurnError as exc:
        verdicts["reported_churn"] += 1
        verdicts["churn_from_plugin"] += "made by pytest-dockernet" in str(exc)


def test_topology(dockernet, verdicts, round_):
    # routable: the router's forwards pass Docker >= 28's direct-routing drop on any host, and
    # the host's forwards meet Docker's isolation, the rules a network create rewrites
    a, b = dockernet.network("a", routable=True), dockernet.network("b", routable=True)
    with dockernet.parallel():
        r = dockernet.router("router", networks=[a, b])
        h1 = dockernet.container("h1", networks=[a])
        h2 = dockernet.container("h2", networks=[b])
        h3 = dockernet.container("h3", networks=[a])
    check(verdicts, lambda: assert_reachable(h1, h3))  # one bridge
    check(verdicts, lambda: assert_unreachable(h1, h2, timeout=0.2))  # via the host: isolated
    dockernet.add_route(h1, str(b.subnet), via=r)
    dockernet.add_route(h2, str(a.subnet), via=r)
    check(verdicts, lambda: assert_reachable(h1, h2, reply_ttl=63))  # through the router
    check(verdicts, lambda: assert_path(h2, h1, via=r))
    dockernet.add_route(h3, str(b.subnet), via=str(a.gateway))  # to the host: isolated again
    check(verdicts, lambda: assert_unreachable(h3, h2, timeout=0.2))
    verdicts["repeated"] = dockernet.registry.repeated_probes
