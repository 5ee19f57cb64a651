"""Whether Docker's userland proxy (docker-proxy) serves a host port, read from ``/proc``.

With the userland proxy on (Docker's default), dockerd starts one ``docker-proxy`` process per
published port and address family. A connection the kernel's DNAT does not rewrite (the host's
own connections to loopback, whose nat OUTPUT path excludes 127.0.0.0/8) is accepted by that
process, which opens a second connection to the container from the bridge's gateway. Knowing
whether one serves the port tells which path a connection took, so a failure can say so.

Each process's command line names what it serves: ``-proto tcp -host-ip 0.0.0.0 -host-port
32769 -container-ip 10.77.9.2 -container-port 8080`` (Go's flag syntax: ``-flag value``,
``-flag=value``, either with ``--``; ``-use-listen-fd`` since Docker 28 takes no value).
A dockerd in another PID namespace than the test's leaves no trace here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

PROC = "/proc"
BINARY = "docker-proxy"
_FLAGS_WITHOUT_VALUE = {"use-listen-fd", "v", "version"}


@dataclass(frozen=True)
class UserlandProxy:
    """One docker-proxy process: what it listens on and where it forwards."""

    pid: int
    proto: str
    host_ip: str
    """As dockerd passed it: ``0.0.0.0``, ``::``, ``127.0.0.1``, ..."""
    host_port: int
    container_ip: str
    container_port: int

    def __str__(self) -> str:
        host = f"[{self.host_ip}]" if ":" in self.host_ip else self.host_ip
        return (
            f"docker-proxy (pid {self.pid}) {self.proto} {host}:{self.host_port} -> "
            f"{self.container_ip}:{self.container_port}"
        )


def parse_cmdline(raw: bytes, pid: int = 0) -> UserlandProxy | None:
    """The proxy a ``/proc/PID/cmdline`` (NUL-separated arguments) describes; None for any
    other process, or a docker-proxy whose flags name no host port."""
    args = [a.decode(errors="replace") for a in raw.split(b"\0")]
    if args and args[-1] == "":
        args.pop()
    if not args or os.path.basename(args[0]) != BINARY:
        return None
    flags: dict[str, str] = {}
    i = 1
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if not eq and name not in _FLAGS_WITHOUT_VALUE and i < len(args):
            value = args[i]
            i += 1
        flags[name] = value
    try:
        host_port = int(flags["host-port"])
        container_port = int(flags.get("container-port", "-1"))
    except (KeyError, ValueError):
        return None
    return UserlandProxy(
        pid=pid,
        proto=flags.get("proto", "tcp"),
        host_ip=flags.get("host-ip", "0.0.0.0"),
        host_port=host_port,
        container_ip=flags.get("container-ip", ""),
        container_port=container_port,
    )


def userland_proxies(proc: str = PROC) -> tuple[UserlandProxy, ...]:
    """Every docker-proxy process visible in ``proc``, by pid. A process that ends while it
    is read is skipped."""
    found = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc, entry, "cmdline"), "rb") as f:
                raw = f.read()
        except OSError:
            continue  # gone, or not ours to read
        proxy = parse_cmdline(raw, int(entry))
        if proxy is not None:
            found.append(proxy)
    return tuple(sorted(found, key=lambda p: p.pid))


def serving(host_port: int, proto: str = "tcp", proc: str = PROC) -> tuple[UserlandProxy, ...]:
    """The docker-proxy processes listening on the host's ``host_port``/``proto`` (any
    address, either family)."""
    return tuple(p for p in userland_proxies(proc) if p.host_port == host_port and p.proto == proto)
