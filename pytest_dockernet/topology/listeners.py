"""Listeners: a service of the plugin's own on a container's port, with nothing in the image.

The socket is opened in the container's namespace from the host, so an image holding one
binary can still serve a port. It answers every connection (TCP) or datagram (UDP) with one
line naming itself, and records each peer as it saw it: behind DNAT, SNAT or docker-proxy, the
peer is not the address that connected, and that is what a test wants to see.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import select
import socket
import threading
from dataclasses import dataclass

from ..addressing import IPAddress
from ..engine.netns import socket_in
from ..model import Container
from ..observe.ports import check_port, check_proto
from .context import BuildContext
from .existing import check_may_change

BACKLOG = 128


@dataclass(frozen=True)
class Connection:
    """One peer a listener served, as its socket saw it."""

    address: IPAddress
    port: int

    def __str__(self) -> str:
        return f"{self.address}:{self.port}"


class Listener:
    """A TCP or UDP listener on ``port`` of every address of ``container``, served by a thread
    of the test's process until :meth:`close`.

    ``dockernet.listen(container, port)`` makes it; it closes with the DockerNet. Each
    connection or datagram gets one line back, and each peer is recorded as the listener saw
    it: behind SNAT, DNAT or docker-proxy, not the address that connected.

    Attributes:
        container: the container whose namespace it serves in.
        port: the port it serves.
        proto: ``tcp`` or ``udp``.
        greeting: the line it answers with.

    Example:
        ```python
        web = dockernet.container("web", [net])
        client = dockernet.container("client", [net])
        listener = dockernet.listen(web, 8080)  # answers "pytest-dockernet web:8080/tcp"
        assert_port_open(client, web, 8080)
        assert listener.peers == (client.ip(net),)  # no NAT on one bridge
        ```
    """

    def __init__(self, container: Container, port: int, proto: str = "tcp") -> None:
        self.container = container
        self.port = check_port(port)
        self.proto = check_proto(proto)
        self.greeting = f"pytest-dockernet {container.alias}:{port}/{proto}\n".encode()
        kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
        # With an IPv6 address it serves both families from one socket, as a dual-stack
        # service does (IPv4 peers arrive as ::ffff:a.b.c.d and are shown as IPv4).
        dual = bool(container.addresses6)
        self._sock = socket_in(container.pid, kind, 6 if dual else 4)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if dual:
                self._sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            self._sock.bind(("::" if dual else "0.0.0.0", port))
            if proto == "tcp":
                self._sock.listen(BACKLOG)
        except OSError as exc:
            self._sock.close()
            if exc.errno == errno.EADDRINUSE:
                raise ValueError(
                    f"port {port}/{proto} is already in use in {container}: something in the "
                    "container listens there; pick another port"
                ) from None
            raise
        self._sock.setblocking(False)
        self._lock = threading.Lock()
        self._seen: list[Connection] = []
        self._stop_read, self._stop_write = os.pipe()
        self._thread = threading.Thread(
            target=self._serve, name=f"dockernet-listen-{container.alias}-{port}", daemon=True
        )
        self._thread.start()

    @property
    def connections(self) -> tuple[Connection, ...]:
        """Every peer served so far, in order. A TCP handshake that completed before this call
        is included: the queue of accepted connections is drained first."""
        if self.proto == "tcp":
            self._serve_ready()
        with self._lock:
            return tuple(self._seen)

    @property
    def peers(self) -> tuple[IPAddress, ...]:
        """The source address of every connection, as the listener saw it."""
        return tuple(c.address for c in self.connections)

    def _serve_ready(self) -> None:
        """Answer every connection or datagram waiting now."""
        with self._lock:
            while True:
                try:
                    self._answer_one()
                except (BlockingIOError, InterruptedError):
                    return
                except OSError:
                    if self._sock.fileno() < 0:
                        return
                    # one peer's trouble (a reset, an unreachable sender) ends with it

    def _answer_one(self) -> None:
        if self.proto == "udp":
            _, peer = self._sock.recvfrom(65535)
            self._seen.append(Connection(peer_address(peer[0]), peer[1]))
            self._sock.sendto(self.greeting, peer)
            return
        conn, peer = self._sock.accept()
        with conn:
            self._seen.append(Connection(peer_address(peer[0]), peer[1]))
            conn.settimeout(1.0)
            with contextlib.suppress(OSError):  # the prober closed first: it still connected
                conn.sendall(self.greeting)

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self._sock.fileno(), self._stop_read], [], [])
            if self._stop_read in ready:
                return
            self._serve_ready()

    def close(self) -> None:
        """Stop serving and close the socket; idempotent."""
        if self._stop_write < 0:
            return
        os.write(self._stop_write, b"x")
        self._thread.join(timeout=5)
        with self._lock:
            self._sock.close()
        os.close(self._stop_read)
        os.close(self._stop_write)
        self._stop_write = -1

    def __repr__(self) -> str:
        return f"<Listener {self.container.alias}:{self.port}/{self.proto}>"

    def __str__(self) -> str:
        return f"listener on {self.container.alias}:{self.port}/{self.proto}"


def peer_address(host: str) -> IPAddress:
    """A peer's address as the socket gave it, an IPv4-mapped one as IPv4.

    >>> peer_address("::ffff:10.199.3.2")
    IPv4Address('10.199.3.2')
    """
    address = ipaddress.ip_address(host.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def listen(
    ctx: BuildContext,
    container: Container,
    port: int,
    *,
    proto: str = "tcp",
    allow_existing: bool = False,
) -> Listener:
    """Serve ``port`` (TCP or UDP) in ``container`` from the host, until its DockerNet
    closes: it answers with one line and records each peer as it saw it. In a container
    the plugin did not create, only with ``allow_existing=True``.

    Example::

        served = dockernet.listen(server, 8080)
        assert_port_open(client, server, 8080)
        assert served.peers == (client.ip(net),)
    """
    if not isinstance(container, Container):
        raise TypeError(f"listen() takes a Container, got {container!r}")
    if container.registry is not ctx.registry:
        raise ValueError(f"{container} was not created by this DockerNet")
    check_may_change(container, "listen", allow_existing)
    listener = Listener(container, port, proto)
    ctx.closing.append(listener.close)
    return listener
