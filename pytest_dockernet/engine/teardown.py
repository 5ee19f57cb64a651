"""Removing what the plugin created: one place for DockerNet.close, sweep, leak check and bench.

Only NotFound counts as done; "already in progress" means another teardown got there first.
Docker 20.10 sometimes keeps a network with "active endpoints" and none attached
(moby/moby#42119): it is retried with its endpoints force-disconnected, then reported as stuck,
which a restart of dockerd frees.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

import docker
import docker.errors

from . import labels
from .client import api_at_least
from .lock import machine_lock

REMOVE_ATTEMPTS = 6
STUCK = (
    "Docker reports active endpoints with no container attached (moby/moby#42119); a restart "
    "of dockerd frees it, and `pytest --dockernet-sweep` then removes it"
)


@dataclass(frozen=True)
class NotRemoved:
    """A resource that is still there after its removal was tried, and why."""

    kind: str
    name: str
    reason: str
    stuck: bool = False
    """Docker's own bug moby#42119, not something the plugin left."""

    def __str__(self) -> str:
        return f"{self.kind} {self.name}: {self.reason}"


def remove_container(
    client: docker.DockerClient, cid: str, name: str = "", *, rewrites_firewall: bool = True
) -> NotRemoved | None:
    """Remove a container and its anonymous volumes; None once it is gone.

    Docker removes the rules it wrote for the container (published ports; on Docker >= 28 its
    addresses) meanwhile, so the removal holds the firewall lock unless ``rewrites_firewall``
    is False (the container is known to have none)."""
    try:
        what = f"remove container {name or cid[:12]}"
        with machine_lock().writing(what, when=rewrites_firewall):
            client.api.remove_container(cid, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        if "already in progress" not in str(exc):
            return NotRemoved("container", name or cid[:12], str(exc.explanation))
    return None


def remove_volume(client: docker.DockerClient, name: str) -> NotRemoved | None:
    """Remove a named volume (a Compose project's); None once it is gone."""
    try:
        client.api.remove_volume(name, force=True)
    except docker.errors.NotFound:
        pass
    except docker.errors.APIError as exc:
        return NotRemoved("volume", name, str(exc.explanation))
    return None


def _endpoints(client: docker.DockerClient, net_id: str) -> list[str]:
    try:
        return list(client.api.inspect_network(net_id).get("Containers") or {})
    except docker.errors.APIError:
        return []


def is_stuck(client: docker.DockerClient, net_id: str, error: docker.errors.APIError) -> bool:
    """Docker refused with "active endpoints" although no container is attached (#42119)."""
    if "active endpoints" not in str(error):
        return False
    try:
        return not client.api.inspect_network(net_id).get("Containers")
    except docker.errors.NotFound:
        return False


def remove_network(client: docker.DockerClient, net_id: str, name: str = "") -> NotRemoved | None:
    """Remove a network, retrying stale endpoints (moby#42119); None once it is gone."""
    delay = 0.05
    last: docker.errors.APIError | None = None
    what = f"remove network {name or net_id[:12]}"
    for attempt in range(REMOVE_ATTEMPTS):
        try:
            with machine_lock().writing(what):
                client.api.remove_network(net_id)
            return None
        except docker.errors.NotFound:
            return None
        except docker.errors.APIError as exc:
            last = exc
            if "active endpoints" not in str(exc):
                break
            for endpoint in _endpoints(client, net_id):
                with contextlib.suppress(docker.errors.APIError), machine_lock().writing(what):
                    client.api.disconnect_container_from_network(endpoint, net_id, force=True)
            time.sleep(delay * (attempt + 1))
    assert last is not None
    if is_stuck(client, net_id, last):
        return NotRemoved("network", name or net_id[:12], STUCK, stuck=True)
    return NotRemoved("network", name or net_id[:12], f"{last.explanation}")


@dataclass
class Removal:
    """What one pass over labelled resources removed, and what stayed."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    not_removed: list[NotRemoved] = field(default_factory=list)

    @property
    def stuck(self) -> list[NotRemoved]:
        return [n for n in self.not_removed if n.stuck]

    @property
    def failed(self) -> list[NotRemoved]:
        return [n for n in self.not_removed if not n.stuck]

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.volumes or self.not_removed)

    def __str__(self) -> str:
        lines = []
        if self.containers:
            lines.append(f"removed {len(self.containers)} containers: {', '.join(self.containers)}")
        if self.networks:
            lines.append(f"removed {len(self.networks)} networks: {', '.join(self.networks)}")
        if self.volumes:
            lines.append(f"removed {len(self.volumes)} volumes: {', '.join(self.volumes)}")
        if self.stuck:
            lines.append(
                f"left {len(self.stuck)} networks that Docker holds with a stale endpoint count "
                f"and no container attached (moby/moby#42119; a restart of dockerd frees them): "
                f"{', '.join(n.name for n in self.stuck)}"
            )
        lines += [f"could not remove {item}" for item in self.failed]
        return "\n".join(lines) or "nothing to sweep"


def remove_labelled(
    client: docker.DockerClient, chosen: Callable[[Mapping[str, str]], bool]
) -> Removal:
    """Remove every container, then network, then volume (a Compose project's) of the
    plugin's whose labels ``chosen`` picks."""
    removal = Removal()
    api = client.api
    for c in api.containers(all=True, filters={"label": labels.SESSION}):
        if chosen(c.get("Labels") or {}):
            name = c["Names"][0].lstrip("/")
            problem = remove_container(client, c["Id"], name)
            if problem is None:
                removal.containers.append(name)
            else:
                removal.not_removed.append(problem)
    for n in api.networks(filters={"label": labels.SESSION}):
        if chosen(n.get("Labels") or {}):
            problem = remove_network(client, n["Id"], n["Name"])
            if problem is None:
                removal.networks.append(n["Name"])
            else:
                removal.not_removed.append(problem)
    for v in api.volumes(filters={"label": labels.SESSION}).get("Volumes") or []:
        if chosen(v.get("Labels") or {}):
            problem = remove_volume(client, v["Name"])
            if problem is None:
                removal.volumes.append(v["Name"])
            else:
                removal.not_removed.append(problem)
    return removal


def is_dead(resource_labels: Mapping[str, str]) -> bool:
    """The run that wrote these labels is known to be gone (see labels.is_alive)."""
    return not labels.is_alive(
        resource_labels.get(labels.HOST, ""),
        resource_labels.get(labels.PID, ""),
        resource_labels.get(labels.STARTED, ""),
    )


def sweep(client: docker.DockerClient) -> Removal:
    """Remove what dead runs left: never anything unlabelled, another host's, or a live run's."""
    return remove_labelled(client, is_dead)


REMOVERS = 8
"""Container removals at once where the engine allows it: dockerd serialises much of each."""
CONCURRENT_REMOVAL_API = (1, 48)
"""Docker 28.0: the network's endpoint count is no longer used (moby/moby#51064)."""


def removes_concurrently(client: docker.DockerClient) -> bool:
    """True when containers sharing a network may be removed concurrently: Docker 28 no
    longer keeps the endpoint count that concurrent removals corrupt (moby/moby#42119)."""
    return api_at_least(client, CONCURRENT_REMOVAL_API)


class Ledger:
    """The ids one DockerNet created, in order, so that close() removes exactly those.

    An id is recorded the moment Docker returns it. A resource whose id never arrived (Ctrl-C
    or SIGTERM during the create call) is adopted by its unique name: dockerd may still be
    creating it then, so the name is looked up again when the ledger closes.
    """

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client
        self.containers: list[str] = []
        self.networks: list[str] = []
        self.adopted: list[tuple[str, str]] = []
        """(kind, Docker name) of each resource whose create call was interrupted."""
        self.no_rules: set[str] = set()
        """Containers Docker writes no firewall rule for: removed without the firewall lock."""

    def record(self, kind: str, docker_name: str, create: Callable[[], dict[str, Any]]) -> str:
        """Run ``create`` (Docker's create call for ``docker_name``) and record the id it returns.

        The first Ctrl-C or SIGTERM during the call is held until the id is recorded: dockerd
        finishes a create whose client gave up. A second one breaks in at once, and the name is
        adopted instead. A refusal (APIError) made nothing, and is only passed on.
        """
        ids = self.networks if kind == "network" else self.containers
        try:
            with _interrupts_held():
                created_id: str = create()["Id"]
                ids.append(created_id)
                return created_id
        except docker.errors.APIError:
            raise
        except BaseException:
            self.adopt(kind, docker_name)
            raise

    def hand_over(self, resource_id: str, to: Ledger) -> None:
        """Make ``to`` the one that removes a container or network recorded here (a pooled
        container handed to a test, a kept network given back). Recorded there first: an
        interrupt between the two steps leaves it in both, and removing it twice is harmless."""
        if resource_id in self.networks:
            to.networks.append(resource_id)
            self.networks.remove(resource_id)
            return
        to.containers.append(resource_id)
        self.containers.remove(resource_id)
        self.no_rules.discard(resource_id)

    def _remove_container(self, cid: str) -> NotRemoved | None:
        return remove_container(self.client, cid, rewrites_firewall=cid not in self.no_rules)

    def adopt(self, kind: str, docker_name: str) -> None:
        """Track a resource Docker may have created although its id never reached us."""
        self.adopted.append((kind, docker_name))
        self._look_up(kind, docker_name)

    def _look_up(self, kind: str, docker_name: str) -> None:
        with contextlib.suppress(docker.errors.DockerException):
            if kind == "network":
                for net in self.client.api.networks(names=[docker_name]):
                    if net["Name"] == docker_name and net["Id"] not in self.networks:
                        self.networks.append(net["Id"])
            else:
                found = self.client.api.containers(all=True, filters={"name": docker_name})
                for c in found:
                    if f"/{docker_name}" in c["Names"] and c["Id"] not in self.containers:
                        self.containers.append(c["Id"])

    def close(
        self, together: bool = False, keep: Callable[[str], bool] | None = None
    ) -> list[NotRemoved]:
        """Remove every container, then every network, newest first. Idempotent.

        ``keep(network_id)``, asked for each network once its containers are gone, may take it
        over instead (it returns True once another ledger holds it): a kept network.

        Containers go one at a time unless ``together``: before Docker 28 concurrent removals
        of containers of one network corrupt the network's endpoint count (moby/moby#42119),
        and the network then cannot be removed (``removes_concurrently`` tells). Each id
        leaves the list only once removed, so an interrupt leaves the rest for a second call.
        """
        for kind, docker_name in self.adopted:
            self._look_up(kind, docker_name)
        self.adopted.clear()
        problems = []
        if together and len(self.containers) > 1:
            ids = list(self.containers)
            with ThreadPoolExecutor(REMOVERS, thread_name_prefix="dockernet-remove") as pool:
                removed = pool.map(self._remove_container, ids)
                for cid, problem in zip(ids, removed, strict=True):
                    if problem is not None:
                        problems.append(problem)
                    self.containers.remove(cid)
        while self.containers:
            problem = self._remove_container(self.containers[-1])
            if problem is not None:
                problems.append(problem)
            self.containers.pop()
        while self.networks:
            if keep is not None and keep(self.networks[-1]):
                self.networks.pop()
                continue
            problem = remove_network(self.client, self.networks[-1])
            if problem is not None:
                problems.append(problem)
            self.networks.pop()
        return problems


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold back the first Ctrl-C or SIGTERM until the body (a create call and the recording of
    its id) is done; a second one interrupts at once.

    An interrupted create call does not stop dockerd, which finishes it after the client gave
    up: the resource would exist with its id never recorded. Only the main thread receives
    KeyboardInterrupt, so only there is anything held back.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    wanted = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.getsignal(signum) for signum in wanted}

    def hold(signum: int, frame: FrameType | None) -> None:
        if held:  # the second one: give up waiting
            restore()
            signal.raise_signal(signum)
        held.append(signum)

    def restore() -> None:
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)

    for signum in wanted:
        if previous[signum] is not signal.SIG_IGN and previous[signum] is not None:
            signal.signal(signum, hold)
    try:
        yield
    finally:
        restore()
        if held:
            signal.raise_signal(held[0])


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def interrupt_on_sigterm() -> Callable[[], None]:
    """Make SIGTERM (a CI runner cancelling a job) take the Ctrl-C path, which tears down.

    Only on the main thread and when nobody else handles SIGTERM. Returns the undo.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return lambda: None
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)

    def undo() -> None:
        if signal.getsignal(signal.SIGTERM) is _sigterm_as_interrupt:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return undo
