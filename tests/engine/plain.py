"""The plain-docker side of the faithfulness tests: topologies built with docker-py alone, on
Docker's defaults (or exactly the options given), probed from inside the containers with the
image's own busybox (``ping``, ``nc``), as a user without the plugin would check them.

Nothing of the plugin decides a verdict here. Only its bookkeeping is borrowed: the run's
labels and ``dn-<run id>-...`` names (so the sweep and ``scripts/check-leaks.sh`` know every
resource), a free subnet of the plugin's pool, and the machine-wide firewall lock, held while a
network is created (Docker rewrites the firewall then) and while a probe runs (so that another
xdist worker's network create cannot open a gap in the rules under it).
"""

from __future__ import annotations

import ipaddress
import itertools
import json
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors

from pytest_dockernet import addressing
from pytest_dockernet.engine import labels
from pytest_dockernet.engine.lock import machine_lock
from pytest_dockernet.observe import subnets

PING_COUNT = 2


def daemon_ip6tables(version: tuple[int, int]) -> bool:
    """Whether the running dockerd was configured to write IPv6 firewall rules, read from its
    configuration alone, never from the firewall: ``--ip6tables[=bool]`` on its command line,
    else ``"ip6tables"`` in its daemon.json, else the default (on from Docker 27). The oracle the
    plugin's own reading (rules naming a network's bridge) is checked against."""
    commands = set()
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = tuple(f.read().decode().split("\0"))
        except OSError:
            continue
        if os.path.basename(argv[0]) == "dockerd":
            commands.add(argv)  # a child between fork and exec shows its parent's command line
    assert len(commands) == 1, f"expected one dockerd, found {commands}"
    (argv,) = commands
    config = "/etc/docker/daemon.json"
    for arg, following in itertools.pairwise([*argv, ""]):
        if arg in ("--ip6tables", "--ip6tables=true"):
            return True
        if arg == "--ip6tables=false":
            return False
        if arg == "--config-file":
            config = following
        elif arg.startswith("--config-file="):
            config = arg.partition("=")[2]
    if os.path.exists(config):
        with open(config) as f:
            settings = json.load(f)
        if "ip6tables" in settings:
            return bool(settings["ip6tables"])
    return version >= (27, 0)


@dataclass(frozen=True)
class Ping:
    """What ``ping -c N -W 1`` inside a container printed, read back as numbers."""

    sent: int
    answered: int
    ttls: tuple[int, ...]
    output: str

    @property
    def verdict(self) -> bool | str:
        """True: every request answered; False: none; otherwise "k/n answered"."""
        if self.answered == self.sent:
            return True
        if self.answered == 0:
            return False
        return f"{self.answered}/{self.sent} answered"

    def __str__(self) -> str:
        ttls = f", ttl {sorted(set(self.ttls))}" if self.ttls else ""
        return f"{self.answered}/{self.sent} answered{ttls}"


@dataclass(frozen=True)
class PlainNetwork:
    name: str
    id: str
    subnet: ipaddress.IPv4Network | None
    gateway: ipaddress.IPv4Address | None
    bridge: str
    subnet6: ipaddress.IPv6Network | None = None


def _until_settled(tentative: Callable[[], str], who: str, timeout: float) -> None:
    """Poll ``tentative`` (the output listing tentative IPv6 addresses) until it is empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not tentative().strip():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{who}: IPv6 addresses still tentative after {timeout} s")


@dataclass
class Plain:
    """Networks and containers made with docker-py only; ``close()`` removes them all."""

    client: docker.DockerClient
    identity: labels.RunIdentity
    scope: str
    image: str
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)

    def _name(self, name: str) -> str:
        return self.identity.docker_name(f"{self.scope}-plain-{name}")

    def network(
        self,
        name: str,
        *,
        internal: bool = False,
        options: dict[str, str] | None = None,
        ipv6: bool = False,
    ) -> PlainNetwork:
        """``docker network create`` on a free /24 of the plugin's pool (and with ``ipv6``, a
        free /64 of its IPv6 pool: ``--ipv6 --subnet``), with ``options`` as given and nothing
        else."""
        docker_name = self._name(name)
        pool = addressing.parse_subnet(addressing.DEFAULT_POOL)
        used = subnets.occupied(self.client)
        subnet6 = None
        if ipv6:
            used6 = subnets.occupied(self.client, 6)
            pool6 = addressing.parse_subnet6(addressing.DEFAULT_POOL6)
            subnet6 = next(
                s for s in addressing.candidates(pool6, 64) if subnets.clash(s, used6) is None
            )
        for subnet in addressing.candidates(pool, addressing.DEFAULT_PREFIX):
            if subnets.clash(subnet, used) is not None:
                continue
            gateway = next(subnet.hosts())
            pools = [docker.types.IPAMPool(subnet=str(subnet), gateway=str(gateway))]
            if subnet6 is not None:
                pools.append(docker.types.IPAMPool(subnet=str(subnet6)))
            ipam = docker.types.IPAMConfig(pool_configs=pools)
            try:
                with machine_lock().writing(f"create network {docker_name}"):
                    made = self.client.api.create_network(
                        docker_name,
                        driver="bridge",
                        ipam=ipam,
                        internal=internal,
                        labels=self.identity.labels(f"plain-{name}"),
                        options=dict(options or {}),
                        check_duplicate=True,
                        enable_ipv6=ipv6,
                    )
            except docker.errors.APIError as exc:
                if "overlap" in str(exc).lower():  # another worker took it meanwhile
                    used = subnets.occupied(self.client)
                    continue
                raise
            net_id = made["Id"]
            self.networks.append(net_id)
            bridge = (options or {}).get("com.docker.network.bridge.name", f"br-{net_id[:12]}")
            return PlainNetwork(docker_name, net_id, subnet, gateway, bridge, subnet6)
        raise RuntimeError(f"no free /24 in {pool} for plain network {name!r}")

    def network_ipv6_only(self, name: str) -> PlainNetwork:
        """``docker network create --ipv4=false --ipv6 --subnet <free /64>`` (Docker >= 28),
        typed as a user would: the CLI's own flag, not the plugin's way of asking for it."""
        docker_name = self._name(name)
        used6 = subnets.occupied(self.client, 6)
        pool6 = addressing.parse_subnet6(addressing.DEFAULT_POOL6)
        subnet6 = next(
            s for s in addressing.candidates(pool6, 64) if subnets.clash(s, used6) is None
        )
        tags = [f"--label={k}={v}" for k, v in self.identity.labels(f"plain-{name}").items()]
        with machine_lock().writing(f"create network {docker_name}"):
            made = subprocess.run(
                [
                    "docker",
                    "network",
                    "create",
                    "--ipv4=false",
                    "--ipv6",
                    f"--subnet={subnet6}",
                    *tags,
                    docker_name,
                ],
                capture_output=True,
                text=True,
                check=True,
            )
        net_id = made.stdout.strip()
        self.networks.append(net_id)
        return PlainNetwork(docker_name, net_id, None, None, f"br-{net_id[:12]}", subnet6)

    def container(
        self,
        name: str,
        networks: list[PlainNetwork],
        *,
        router: bool = False,
        command: str = "sleep 3600",
        ports: dict[str, Any] | None = None,
    ) -> Any:
        """``docker run -d`` on the first network, connected to the others before it starts.

        A router (and every container that gets routes) has NET_ADMIN; a router also the
        namespaced ``net.ipv4.ip_forward=1``, as the seed's router does (and on networks with
        IPv6, ``net.ipv6.conf.all.forwarding=1``).
        """
        api = self.client.api
        forwarding = {"net.ipv4.ip_forward": "1"}
        if any(net.subnet6 is not None for net in networks):
            forwarding["net.ipv6.conf.all.forwarding"] = "1"
        host_config = api.create_host_config(
            cap_add=["NET_ADMIN"],
            sysctls=forwarding if router else None,
            port_bindings=ports,
        )
        first, *others = networks
        made = api.create_container(
            self.image,
            ["sh", "-c", command],
            name=self._name(name),
            labels=self.identity.labels(f"plain-{name}"),
            host_config=host_config,
            # docker-py appends "/tcp" to a "8080/tcp" string here ("8080/tcp/tcp")
            ports=[(int(n), proto) for n, proto in (p.split("/") for p in ports or ())],
            networking_config=api.create_networking_config(
                {first.name: api.create_endpoint_config()}
            ),
        )
        self.containers.append(made["Id"])
        for net in others:
            api.connect_container_to_network(made["Id"], net.id)
        with machine_lock().writing(f"start container {name}"):  # Docker 28: raw-table rules
            api.start(made["Id"])
        started = self.client.containers.get(made["Id"])
        if any(net.subnet6 is not None for net in networks):
            self.settle6(started)
            for net in networks:
                if net.subnet6 is not None:
                    self.settle6_bridge(net.bridge)
        return started

    @staticmethod
    def settle6_bridge(bridge: str, timeout: float = 5.0) -> None:
        """Wait, as a careful user's script would, until ``ip -6 addr show dev BRIDGE
        tentative`` on the host is empty: a bridge's addresses enter duplicate address
        detection when its first container comes up, and until then the host cannot resolve
        the container's address to forward to it (a published port over IPv6 is silent)."""
        command = ["ip", "-6", "addr", "show", "dev", bridge, "tentative"]
        _until_settled(
            lambda: subprocess.run(command, capture_output=True, text=True, check=True).stdout,
            f"bridge {bridge}",
            timeout,
        )

    @staticmethod
    def settle6(container: Any, timeout: float = 5.0) -> None:
        """Wait, as a careful user's script would, until ``ip -6 addr`` inside the container
        shows no tentative address: Docker leaves its link-local address in duplicate
        address detection for about 2 s, while nothing is routed to or from it."""
        _until_settled(
            lambda: container.exec_run(["sh", "-c", "ip -6 addr | grep tentative"])[1].decode(),
            container.name,
            timeout,
        )

    @staticmethod
    def ip(container: Any, net: PlainNetwork) -> ipaddress.IPv4Address:
        container.reload()
        return ipaddress.IPv4Address(
            container.attrs["NetworkSettings"]["Networks"][net.name]["IPAddress"]
        )

    @staticmethod
    def ip6(container: Any, net: PlainNetwork) -> ipaddress.IPv6Address:
        container.reload()
        return ipaddress.IPv6Address(
            container.attrs["NetworkSettings"]["Networks"][net.name]["GlobalIPv6Address"]
        )

    @staticmethod
    def host_port6(container: Any, port: str) -> int | None:
        """The host port of Docker's IPv6 binding of ``port``, or None where it made none."""
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"][port] or []
        return next((int(b["HostPort"]) for b in bindings if ":" in b["HostIp"]), None)

    @staticmethod
    def host_port(container: Any, port: str) -> int:
        container.reload()
        bindings = container.attrs["NetworkSettings"]["Ports"][port]
        return next(int(b["HostPort"]) for b in bindings if ":" not in b["HostIp"])

    @staticmethod
    def route(container: Any, dst: str, via: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        code, out = container.exec_run(f"ip route add {dst} via {via}")
        if code != 0:
            raise RuntimeError(f"ip route add {dst} via {via} failed: {out.decode()}")

    @staticmethod
    def ping(
        src: Any, dst: ipaddress.IPv4Address | ipaddress.IPv6Address, count: int = PING_COUNT
    ) -> Ping:
        """``ping -c count -W 1 dst`` inside ``src`` (busybox takes the family from ``dst``)."""
        with machine_lock().reading():
            _, out = src.exec_run(f"ping -c {count} -W 1 {dst}")
        text = out.decode(errors="replace")
        stats = re.search(r"(\d+) packets transmitted, (\d+) packets received", text)
        sent, answered = (int(stats[1]), int(stats[2])) if stats else (count, 0)
        ttls = tuple(int(t) for t in re.findall(r"ttl=(\d+)", text))
        return Ping(sent, answered, ttls, text)

    @staticmethod
    def connect(src: Any, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int) -> str:
        """``nc`` inside ``src`` to ``address:port``: what the service said, or ""."""
        with machine_lock().reading():
            _, out = src.exec_run(["sh", "-c", f"sleep 1 | nc -w 2 {address} {port}"])
        return out.decode(errors="replace").strip()

    @staticmethod
    def connect_here(address: str, port: int, wait: float = 0.0) -> str:
        """A TCP connection from the test's own process (the engine's namespace): what the
        service said, or the error; tried again for up to ``wait`` seconds while it fails
        (a service just started)."""
        deadline = time.monotonic() + wait
        said = Plain.connect_once(address, port)
        while said.startswith("error:") and time.monotonic() < deadline:
            time.sleep(0.2)
            said = Plain.connect_once(address, port)
        return said

    @staticmethod
    def connect_once(address: str, port: int) -> str:
        try:
            with socket.create_connection((address, port), timeout=2) as conn:
                conn.settimeout(2)
                return conn.recv(100).decode(errors="replace").strip()
        except OSError as exc:
            return f"error: {exc}"

    def close(self) -> list[str]:
        """Remove the containers, then the networks; what could not be removed."""
        problems = []
        for cid in reversed(self.containers):
            try:
                self.client.api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                problems.append(f"container {cid[:12]}: {exc}")
        for net_id in reversed(self.networks):
            try:
                with machine_lock().writing(f"remove network {net_id[:12]}"):
                    self.client.api.remove_network(net_id)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                problems.append(f"network {net_id[:12]}: {exc}")
        self.containers.clear()
        self.networks.clear()
        return problems
