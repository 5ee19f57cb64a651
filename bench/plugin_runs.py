"""The scenarios through ``pytest_dockernet.DockerNet`` directly, as a test would write them.

The code is what a test writes naturally: one ``container()`` call after another (the plugin
starts them in the background), and
``assert_reachability`` probes a matrix's pairs concurrently (with ``port=``, it opens a TCP
connection to each listener ``DockerNet.listen`` serves from the host).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import docker

from pytest_dockernet import Container, DockerNet, assert_reachability, assert_reachable

from .common import IMAGE, PORT, SUBNET_S2_A, SUBNET_S2_B, BenchError, BenchSession, phases


def settled(containers: Sequence[Container]) -> None:
    """The end of the set-up phase: every container runs. A test never calls this (its first
    assertion waits for what it needs); the benchmark does, so that set-up and probing are
    timed apart."""
    for c in containers:
        c.wait_started()


def _dockernet(client: docker.DockerClient, session: BenchSession, stem: str) -> DockerNet:
    return DockerNet(client, session.identity(), image=IMAGE, scope=session.unique(stem))


def _closed(dn: DockerNet) -> None:
    dn.close()
    if dn.leftovers:
        raise BenchError(f"the plugin could not remove: {'; '.join(dn.leftovers)}")


def scenario1(client: docker.DockerClient, session: BenchSession) -> dict[str, float]:
    """One bridge, two containers, ``assert_reachable(c1, "container2")``, teardown."""
    t0 = time.perf_counter()
    dn = _dockernet(client, session, "s1-")
    try:
        net = dn.network("sample")
        c1 = dn.container("container1", networks=[net])
        c2 = dn.container("container2", networks=[net])
        settled([c1, c2])
        t1 = time.perf_counter()
        assert_reachable(c1, "container2")
        t2 = time.perf_counter()
    finally:
        _closed(dn)
    return phases(t0, t1, t2, time.perf_counter())


def scenario2(client: docker.DockerClient, session: BenchSession) -> dict[str, float]:
    """Two fixed bridges, a router, two hosts, routes from the host, one ping (ttl 63)."""
    t0 = time.perf_counter()
    dn = _dockernet(client, session, "s2-")
    try:
        a = dn.network("sample1", subnet=SUBNET_S2_A)
        b = dn.network("sample2", subnet=SUBNET_S2_B)
        dn.router("router", networks={a: "10.231.201.3", b: "10.231.202.3"})
        h1 = dn.container("h1", networks={a: "10.231.201.4"}, routes={SUBNET_S2_B: "10.231.201.3"})
        h2 = dn.container("h2", networks={b: "10.231.202.2"})
        dn.add_route(h2, SUBNET_S2_A, via="10.231.202.3")
        settled(list(dn.containers.values()))
        t1 = time.perf_counter()
        assert_reachable(h1, h2, reply_ttl=63)
        t2 = time.perf_counter()
    finally:
        _closed(dn)
    return phases(t0, t1, t2, time.perf_counter())


def probe_matrix(containers: Sequence[Container], ipv6: bool = False) -> str:
    """Probe every ordered pair with the plugin's matrix helper (over both families with
    ``ipv6``); returns how it probed."""
    assert_reachability(list(containers))
    if not ipv6:
        return "assert_reachability(containers)"
    assert_reachability(list(containers), family=6)
    return "assert_reachability(containers), then with family=6"


def matrix(
    client: docker.DockerClient,
    session: BenchSession,
    n: int,
    stem: str = "mx-",
    ipv6: bool = False,
) -> tuple[dict[str, float], str]:
    """N containers on one bridge, every ordered pair probed; set-up/probing/teardown timed.
    With ``ipv6``, the bridge is dual-stack and every pair is probed over both families.

    Returns the timings and how the pairs were probed.
    """
    t0 = time.perf_counter()
    dn = _dockernet(client, session, stem)
    try:
        net = dn.network("mx", ipv6=ipv6)
        containers = [dn.container(f"c{i}", networks=[net]) for i in range(1, n + 1)]
        settled(containers)
        t1 = time.perf_counter()
        how = probe_matrix(containers, ipv6)
        t2 = time.perf_counter()
    finally:
        _closed(dn)
    return phases(t0, t1, t2, time.perf_counter()), how


def port_matrix(client: docker.DockerClient, session: BenchSession, n: int) -> dict[str, float]:
    """N containers on one bridge, each serving PORT through ``dn.listen`` (nothing runs in
    the image); every ordered pair opens it with ``assert_reachability(containers, port=PORT)``.

    The listeners are part of the set-up.
    """
    t0 = time.perf_counter()
    dn = _dockernet(client, session, "pm-")
    try:
        net = dn.network("pm")
        containers = [dn.container(f"c{i}", networks=[net]) for i in range(1, n + 1)]
        for c in containers:
            dn.listen(c, PORT)
        settled(containers)
        t1 = time.perf_counter()
        assert_reachability(containers, port=PORT)
        t2 = time.perf_counter()
    finally:
        _closed(dn)
    return phases(t0, t1, t2, time.perf_counter())
