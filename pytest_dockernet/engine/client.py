"""The Docker engine as the plugin reaches it: a client known to answer, and a container's end.

Two failures look alike through docker-py and have different fixes: an engine that does not
answer, and a client library that cannot talk at all (docker-py 6.1 with requests 2.32 fails
every call with "Not supported URL scheme http+docker"). The engine's socket is asked directly,
so the error says which of the two it is.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlparse

import docker
import docker.errors

from ..errors import EngineUnavailableError

DEFAULT_HOST = "unix:///var/run/docker.sock"
START_HINT = (
    "Start one (`systemctl start docker`, or `dockerd &` where there is no systemd; "
    "`scripts/setup-host.sh` does it on Debian/Ubuntu), or point DOCKER_HOST at a running engine."
)


def engine_answers(url: str, timeout: float = 2.0) -> bool:
    """Whether an engine answers ``GET /_ping`` at ``url`` (unix:// or tcp://), asked directly."""
    parsed = urlparse(url)
    try:
        if parsed.scheme in ("unix", "http+unix"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            address: str | tuple[str, int] = parsed.path
        elif parsed.scheme in ("tcp", "http") and parsed.hostname:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            address = (parsed.hostname, parsed.port or 2375)
        else:
            return False
        with sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return sock.recv(64).startswith(b"HTTP/1.")
    except OSError:
        return False


def _library_versions() -> str:
    found = []
    for dist in ("docker", "requests", "urllib3"):
        try:
            found.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def connect() -> docker.DockerClient:
    """A client for the engine that DOCKER_HOST (or the default socket) names, known to answer."""
    url = os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    where = url if "DOCKER_HOST" in os.environ else f"{url} (DOCKER_HOST unset)"
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        if engine_answers(url):
            raise EngineUnavailableError(
                f"the Docker engine at {where} answers, but the Docker client library failed: "
                f"{exc} ({_library_versions()}). Install a docker-py that works with these: "
                "`pip install 'docker>=7.1'`"
            ) from exc
        raise EngineUnavailableError(
            f"no Docker engine answers at {where}: {exc}\n{START_HINT}"
        ) from exc
    return client


def version_of(info: Mapping[str, object]) -> tuple[int, int]:
    """(major, minor) of the engine from ``docker info`` (``ServerVersion``, "28.5.2+dfsg4"), or
    (0, 0) when it is not a version: the engine's behaviour changes by release (see
    docs/guides/docker-versions.md)."""
    found = re.match(r"(\d+)\.(\d+)", str(info.get("ServerVersion", "")))
    return (int(found[1]), int(found[2])) if found else (0, 0)


BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"
"""The driver option that names a bridge network's host interface."""
MTU_OPTION = "com.docker.network.driver.mtu"
"""The driver option that sets a network's MTU (its bridge and its containers' interfaces)."""


def bridge_of(network: Mapping[str, Any]) -> str:
    """The host interface of the bridge network that ``network`` describes (``inspect_network``
    or the network list): the name its options give, else Docker's ``br-`` and 12 hex digits.

    Example:
        ```python
        bridge_of(client.api.inspect_network("lan"))  # 'br-3f2a9c1d0e4b'
        ```
    """
    options = network.get("Options") or {}
    return str(options.get(BRIDGE_NAME_OPTION) or f"br-{network['Id'][:12]}")


def ipv6_bridges(client: docker.DockerClient) -> tuple[str, ...]:
    """The host interfaces of the engine's bridge networks with IPv6, the user's included:
    where the engine's IPv6 firewall rules, if it writes any, name them.

    Example:
        ```python
        ipv6_bridges(connect())  # ('br-3f2a9c1d0e4b',) with one dual-stack network
        ```
    """
    listed = client.api.networks(filters={"driver": "bridge"})
    return tuple(bridge_of(net) for net in listed if net.get("EnableIPv6"))


def api_at_least(client: docker.DockerClient, wanted: tuple[int, int]) -> bool:
    """True when the API version docker-py negotiated with the engine is at least ``wanted``
    (1.48 is Docker 28.0); False when it is not a version (not negotiated)."""
    major, _, minor = str(client.api.api_version).partition(".")
    if not (major.isdigit() and minor.isdigit()):
        return False
    return (int(major), int(minor)) >= wanted


def exit_report(client: docker.DockerClient, name: str, cid: str) -> str:
    """Why container ``name`` is not running: exit code, Docker's error, last log lines."""
    state = client.api.inspect_container(cid)["State"]
    logs = client.api.logs(cid, tail=10).decode(errors="replace").strip()
    return (
        f"container {name!r} is not running: it exited with code {state['ExitCode']} "
        f"({state.get('Error') or 'no error from Docker'}); last log lines:\n"
        f"{logs or '(no output)'}\n"
        "Its command must keep running (the default image sleeps): check command=/image="
    )
