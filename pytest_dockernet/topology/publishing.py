"""Published ports (``docker run -p``): ``ports=`` checked before Docker sees it, and the
bindings Docker made, read back at start.

A port is refused here when Docker could not bind it (an address the host does not hold, a
fixed host port already held), so a bad ``ports=`` leaves nothing behind.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ..addressing import A, IPAddress
from ..model import Network
from ..model.arguments import PortsArg
from ..observe.ports import PROTOS, check_port


@dataclass(frozen=True)
class PortSpec:
    """One published port as asked: container port and proto, and the host binding (None:
    every address / a port Docker picks)."""

    port: int
    proto: str
    host_ip: IPAddress | None = None
    host_port: int | None = None

    @property
    def key(self) -> str:
        """Docker's name for the container port: ``8080/tcp``."""
        return f"{self.port}/{self.proto}"

    def binding(self) -> dict[str, str]:
        """The Engine API's ``PortBindings`` entry ("" leaves the choice to Docker)."""
        return {
            "HostIp": str(self.host_ip) if self.host_ip is not None else "",
            "HostPort": str(self.host_port) if self.host_port is not None else "",
        }


def _port_number(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int from 1 to 65535, got {value!r}")
    return check_port(value, what)


def _container_port(key: object, who: str) -> tuple[int, str]:
    """A ``ports=`` key: an int (TCP) or Docker's ``"8080/udp"`` / ``"8080/tcp"``."""
    if isinstance(key, str):
        number, _, proto = key.partition("/")
        proto = proto or "tcp"
        if proto not in PROTOS:
            raise ValueError(
                f"{who}: ports= key {key!r} names protocol {proto!r}: use 'tcp' or 'udp', "
                "as in '8080/udp'"
            )
        if not number.isdigit():
            raise ValueError(
                f"{who}: ports= key {key!r} is not a port: use an int (TCP) or '8080/udp'"
            )
        return _port_number(int(number), f"{who}: ports= key {key!r}"), proto
    if isinstance(key, bool) or not isinstance(key, int):
        raise TypeError(
            f"{who}: ports= key {key!r} must be an int (TCP) or a str like '8080/udp', "
            f"got {type(key).__name__}"
        )
    return _port_number(key, f"{who}: ports= key {key!r}"), "tcp"


_CHOICES = "'0.0.0.0' or '::' (every address), '127.0.0.1' or '::1' (loopback only)"


def _host_ip(value: object, what: str) -> IPAddress:
    """An address this host holds (or 0.0.0.0, ``::``): Docker cannot bind anything else."""
    if isinstance(value, bool) or not isinstance(
        value, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)
    ):
        raise TypeError(f"{what} must be an IPv4 or IPv6 address (str), got {value!r}")
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(
            f"{what} {value!r} is not an IP address: use {_CHOICES} or an address of this host"
        ) from None
    if ip.is_unspecified:
        return ip
    family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((str(ip), 0))
        except OSError as exc:
            if exc.errno != errno.EADDRNOTAVAIL:
                raise
            raise ValueError(
                f"{what} {ip} is not an address of this host, so Docker cannot bind it: use "
                f"{_CHOICES} or one of the host's own addresses"
            ) from None
    return ip


def _host_binding(value: object, who: str, key: object) -> tuple[IPAddress | None, int | None]:
    """A ``ports=`` value: None, a host port, or ``(host_ip, host_port or None)``."""
    what = f"{who}: ports[{key!r}]"
    if value is None:
        return None, None
    if isinstance(value, tuple) and len(value) == 2:
        host_ip = _host_ip(value[0], f"{what} host_ip")
        host_port = None if value[1] is None else _port_number(value[1], f"{what} host port")
        return host_ip, host_port
    if isinstance(value, int) and not isinstance(value, bool):
        return None, _port_number(value, f"{what} host port")
    raise TypeError(
        f"{what} must be None (Docker picks a host port), a host port (int) or a tuple "
        f"(host_ip, host_port or None), got {value!r}"
    )


def _in_use(ip: IPAddress | None, port: int, proto: str) -> bool:
    """Whether something on this host already holds ``port``/``proto`` (a listener, a
    docker-proxy): Docker would then fail to start the container."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ip is not None and ip.version == 6 else socket.AF_INET
    with socket.socket(family, kind) as probe:
        if proto == "tcp":  # a connection in TIME_WAIT does not hold the port for a listener
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((str(ip) if ip is not None else "0.0.0.0", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def _clash(one: IPAddress | None, other: IPAddress | None) -> bool:
    """Whether two bindings of one host port meet: None binds both families' every address,
    0.0.0.0 (``::``) every address of its family."""
    if one is None or other is None or one == other:
        return True
    return one.version == other.version and (one.is_unspecified or other.is_unspecified)


def plan_ports(who: str, ports: PortsArg | None, networks: Sequence[Network]) -> list[PortSpec]:
    """``ports=`` checked: numbers, protocols, host addresses, no port asked twice, and no
    fixed host port already held on this host."""
    if ports is None:
        return []
    if not isinstance(ports, Mapping):
        raise TypeError(
            f"{who}: ports= takes a dict {{container port: None | host port | (host_ip, "
            f"host_port)}}, got {type(ports).__name__}"
        )
    if ports and all(net.internal for net in networks):
        raise ValueError(
            f"{who}: ports= on a container only on internal networks: Docker publishes "
            "nothing for it; add a non-internal network"
        )
    planned: dict[tuple[int, str], PortSpec] = {}
    for key, value in ports.items():
        port, proto = _container_port(key, who)
        if (port, proto) in planned:
            raise ValueError(f"{who}: ports= names {port}/{proto} twice ({key!r}): keep one")
        host_ip, host_port = _host_binding(value, who, key)
        planned[(port, proto)] = PortSpec(port, proto, host_ip, host_port)
    fixed = [p for p in planned.values() if p.host_port is not None]
    for i, one in enumerate(fixed):
        for other in fixed[i + 1 :]:
            if (one.host_port, one.proto) != (other.host_port, other.proto):
                continue
            if _clash(one.host_ip, other.host_ip):
                raise ValueError(
                    f"{who}: ports= binds host port {one.host_port}/{one.proto} for both "
                    f"{one.key} and {other.key}: give one another host port (or None)"
                )
        assert one.host_port is not None
        if _in_use(one.host_ip, one.host_port, one.proto):
            raise ValueError(
                f"{who}: host port {one.host_port}/{one.proto} (for {one.key}) is already in "
                "use on this host: pick another, or None to let Docker choose a free one"
            )
    return list(planned.values())


def published_ports(
    settings: Mapping[str, object] | None,
) -> dict[tuple[int, str], tuple[ipaddress.IPv4Address, int]]:
    """The IPv4 binding of each published port in ``inspect_container``'s
    ``NetworkSettings.Ports`` (``{"8080/tcp": [{"HostIp": "0.0.0.0", "HostPort": "32769"},
    {"HostIp": "::", ...}]}``; an exposed, unpublished port maps to None)."""
    return _bindings(settings, ipaddress.IPv4Address, "0.0.0.0")


def published_ports6(
    settings: Mapping[str, object] | None,
) -> dict[tuple[int, str], tuple[ipaddress.IPv6Address, int]]:
    """The IPv6 binding of each published port, as :func:`published_ports` (``::`` for a
    binding Docker made on every IPv6 address)."""
    return _bindings(settings, ipaddress.IPv6Address, "::")


def _bindings(
    settings: Mapping[str, object] | None, parse: Callable[[str], A], every: str
) -> dict[tuple[int, str], tuple[A, int]]:
    """The first binding of each published port whose host address ``parse`` reads."""
    found: dict[tuple[int, str], tuple[A, int]] = {}
    for key, bindings in (settings or {}).items():
        number, _, proto = key.partition("/")
        if not isinstance(bindings, list) or not number.isdigit():
            continue
        for binding in bindings:
            try:
                ip = parse(binding.get("HostIp") or every)
                found[(int(number), proto or "tcp")] = (ip, int(binding["HostPort"]))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a binding of the other family, or one without a port
            break
    return found
