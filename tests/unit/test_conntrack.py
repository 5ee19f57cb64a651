"""The host's connection tracking read for one connection (real loopback sockets, no engine):
the entry of a connection made, none for one never made, and how an entry reads."""

from __future__ import annotations

import ipaddress
import socket

from pytest_dockernet.observe.conntrack import Tracked, tracked

LOOPBACK = ipaddress.ip_address("127.0.0.1")


def test_a_connection_on_loopback_is_tracked_untranslated():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            own = client.getsockname()[1]
            entry = tracked("tcp", (LOOPBACK, own), (LOOPBACK, port))
            # the same client port to a port nobody connected to is not tracked
            other = tracked("tcp", (LOOPBACK, own), (LOOPBACK, port ^ 1))
    assert entry == Tracked("tcp", (LOOPBACK, own), (LOOPBACK, port), (LOOPBACK, port))
    assert not entry.translated
    assert other is None


def test_an_entry_reads_as_its_translation():
    client = (ipaddress.ip_address("10.199.3.2"), 41234)
    host = (ipaddress.ip_address("10.199.3.1"), 32768)
    container = (ipaddress.ip_address("172.18.0.2"), 8080)
    sent_on = Tracked("tcp", client, host, container)
    assert sent_on.translated
    assert str(sent_on) == "tcp 10.199.3.2:41234 -> 10.199.3.1:32768, DNAT to 172.18.0.2:8080"
    v6 = (ipaddress.ip_address("fd00::2"), 5353)
    taken = Tracked(
        "udp", v6, (ipaddress.ip_address("fd00::1"), 53), (ipaddress.ip_address("fd00::1"), 53)
    )
    assert str(taken) == "udp [fd00::2]:5353 -> [fd00::1]:53, not translated"
