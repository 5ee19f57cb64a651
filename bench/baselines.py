"""The scenarios with plain docker-py, sequential: what a user writes without the plugin.

``containers.create`` + ``start`` is ``containers.run(detach=True)`` minus its fallback that
pulls a missing image: the benchmark never pulls. Pings are ``exec_run(["ping", ...])``.
"""

from __future__ import annotations

import contextlib
import time
from types import TracebackType

import docker
import docker.errors
import docker.types
from docker.models.containers import Container
from docker.models.networks import Network

from .common import (
    IMAGE,
    SUBNET_MATRIX,
    SUBNET_S1,
    SUBNET_S2_A,
    SUBNET_S2_B,
    BenchError,
    BenchSession,
    phases,
)


class _Created:
    """Everything one scenario created, removed sequentially; on an error, quietly."""

    def __init__(self, client: docker.DockerClient, session: BenchSession, stem: str) -> None:
        self.client = client
        self.session = session
        self.stem = session.unique(f"{session.id}-py-{stem}")
        self.containers: list[Container] = []
        self.networks: list[Network] = []

    def network(self, name: str, subnet: str) -> Network:
        ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
        net = self.client.networks.create(
            f"{self.stem}-{name}", driver="bridge", ipam=ipam, labels=self.session.docker_labels
        )
        self.networks.append(net)
        return net

    def container(
        self,
        alias: str,
        net: Network,
        ip: str | None = None,
        *,
        cap_add: list[str] | None = None,
        sysctls: dict[str, str] | None = None,
        start: bool = True,
    ) -> Container:
        """``docker run -d --net NET [--ip IP] --network-alias ALIAS``."""
        api = self.client.api
        endpoint = api.create_endpoint_config(aliases=[alias], ipv4_address=ip)
        net_name = str(net.name)
        container = self.client.containers.create(
            IMAGE,
            name=f"{self.stem}-{alias}",
            hostname=alias,
            labels=self.session.docker_labels,
            network=net_name,
            networking_config={net_name: endpoint},
            cap_add=cap_add,
            sysctls=sysctls,
            detach=True,
        )
        self.containers.append(container)
        if start:
            container.start()
        return container

    def teardown(self) -> None:
        """``docker rm -f`` each container, then ``docker network rm`` each network."""
        while self.containers:
            self.containers.pop(0).remove(force=True)
        while self.networks:
            self.networks.pop().remove()

    def __enter__(self) -> _Created:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for c in self.containers:
            with contextlib.suppress(docker.errors.APIError):
                c.remove(force=True)
        for n in reversed(self.networks):
            with contextlib.suppress(docker.errors.APIError):
                n.remove()


def _failure(container: Container, cmd: tuple[str, ...]) -> str | None:
    """Run ``cmd`` in the container; None when it exited 0, else what it printed."""
    result = container.exec_run(list(cmd))
    if result.exit_code == 0:
        return None
    output = result.output if isinstance(result.output, bytes) else b""
    return (
        f"docker-py: {' '.join(cmd)} in {container.name} exited {result.exit_code}: "
        f"{output.decode(errors='replace').strip()}"
    )


def _exec(container: Container, *cmd: str) -> None:
    if (failed := _failure(container, cmd)) is not None:
        raise BenchError(failed)


def _probe(container: Container, *cmd: str) -> None:
    """A ping: as the CLI scripts' ``probe``, a failure is shown and tried once more."""
    if (failed := _failure(container, cmd)) is None:
        return
    print(f"  retried: {failed}", flush=True)
    _exec(container, *cmd)


def scenario1(client: docker.DockerClient, session: BenchSession) -> dict[str, float]:
    """One bridge, two containers, ``ping -c1 container2`` by name, teardown."""
    t0 = time.perf_counter()
    with _Created(client, session, "s1") as made:
        net = made.network("sample", SUBNET_S1)
        c1 = made.container("container1", net)
        made.container("container2", net)
        t1 = time.perf_counter()
        _probe(c1, "ping", "-c1", "-W1", "container2")
        t2 = time.perf_counter()
        made.teardown()
    return phases(t0, t1, t2, time.perf_counter())


def scenario2(client: docker.DockerClient, session: BenchSession) -> dict[str, float]:
    """Two bridges, a router, two hosts that add their routes with ``ip``, one ping."""
    t0 = time.perf_counter()
    with _Created(client, session, "s2") as made:
        a = made.network("sample1", SUBNET_S2_A)
        b = made.network("sample2", SUBNET_S2_B)
        router = made.container(
            "router",
            a,
            "10.231.201.3",
            cap_add=["NET_ADMIN"],
            sysctls={"net.ipv4.ip_forward": "1"},
            start=False,
        )
        b.connect(router, ipv4_address="10.231.202.3")
        router.start()
        h1 = made.container("h1", a, "10.231.201.4", cap_add=["NET_ADMIN"])
        h2 = made.container("h2", b, "10.231.202.2", cap_add=["NET_ADMIN"])
        _exec(h1, "ip", "route", "add", SUBNET_S2_B, "via", "10.231.201.3")
        _exec(h2, "ip", "route", "add", SUBNET_S2_A, "via", "10.231.202.3")
        t1 = time.perf_counter()
        _probe(h1, "ping", "-c1", "-W1", "10.231.202.2")
        t2 = time.perf_counter()
        made.teardown()
    return phases(t0, t1, t2, time.perf_counter())


def matrix(client: docker.DockerClient, session: BenchSession, n: int) -> dict[str, float]:
    """N containers on one bridge; ``ping -c1 -W1`` for every ordered pair; each phase timed."""
    t0 = time.perf_counter()
    with _Created(client, session, "mx") as made:
        net = made.network("net", SUBNET_MATRIX)
        ips = [f"10.231.203.{10 + i}" for i in range(1, n + 1)]
        containers = [made.container(f"c{i}", net, ip) for i, ip in enumerate(ips, 1)]
        t1 = time.perf_counter()
        for src in containers:
            for dst, ip in zip(containers, ips, strict=True):
                if dst is not src:
                    _probe(src, "ping", "-c1", "-W1", ip)
        t2 = time.perf_counter()
        made.teardown()
    return phases(t0, t1, t2, time.perf_counter())
