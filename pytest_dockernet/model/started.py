"""What Docker reported once a container ran: its id, its init process, its published ports.

Example::

    Started("3f2a9c1d0e4b", 4242, {(8080, "tcp"): (IPv4Address("0.0.0.0"), 32769)})
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Started:
    """What Docker reported once a container ran."""

    id: str
    init_pid: int
    """The init process as Docker reported it at start."""
    ports: dict[tuple[int, str], tuple[ipaddress.IPv4Address, int]] = field(default_factory=dict)
    """Each published (container port, proto) with the host's IPv4 address and port Docker
    bound for it."""
    ports6: dict[tuple[int, str], tuple[ipaddress.IPv6Address, int]] = field(default_factory=dict)
    """The same for the IPv6 bindings (``::`` and ports Docker bound on IPv6)."""
