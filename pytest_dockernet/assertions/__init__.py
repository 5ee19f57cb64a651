"""Assertions on what Docker and the kernel really did, each explaining itself when it fails.

Every helper reads the live state (netlink, the nat table, ICMP), compares it with what the test
expects, and raises ``AssertionError`` with the observed state next to the expectation, whatever
that state is (a port Docker does not publish, a name that does not resolve from the source). A
call that cannot mean anything (a wrong type, a port 70000, an unknown protocol) raises
``TypeError``/``ValueError``.
Each one also reports what it observed to :mod:`pytest_dockernet.record.observations`, which
keeps it only when the run records or compares (``--dockernet-record``/``--dockernet-compare``).
One module per kind of fact: bridges, routes, reachability (ping and paths), the all-pairs
matrix, ports, published ports, dns, nat, mtu.
"""

from .bridges import assert_bridge_members
from .dns import assert_not_resolvable, assert_resolves
from .matrix import assert_reachability
from .mtu import assert_mtu, assert_path_mtu
from .nat import assert_masquerade, assert_no_masquerade, assert_no_snat, assert_snat
from .ports import assert_port_closed, assert_port_open
from .published import assert_published
from .reachability import assert_path, assert_reachable, assert_unreachable
from .routes import assert_host_route, assert_route

__all__ = [
    "assert_bridge_members",
    "assert_host_route",
    "assert_masquerade",
    "assert_mtu",
    "assert_no_masquerade",
    "assert_no_snat",
    "assert_not_resolvable",
    "assert_path",
    "assert_path_mtu",
    "assert_port_closed",
    "assert_port_open",
    "assert_published",
    "assert_reachability",
    "assert_reachable",
    "assert_resolves",
    "assert_route",
    "assert_snat",
    "assert_unreachable",
]
