"""Removing what runs that are no longer alive left behind (SIGKILL, a crashed CI job).

A resource is swept only when it carries the plugin's labels and the process that created it,
on this host, is gone (its pid is free or belongs to a process started at another time).
Anything unlabelled, from another host, or from a live run is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import docker
import docker.errors

from . import labels


@dataclass
class SweepReport:
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    """Networks Docker refuses to remove for endpoints that no longer exist (moby#42119)."""
    failed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.containers or self.networks or self.stuck or self.failed)

    def __str__(self) -> str:
        lines = []
        if self.containers:
            lines.append(f"removed {len(self.containers)} containers: {', '.join(self.containers)}")
        if self.networks:
            lines.append(f"removed {len(self.networks)} networks: {', '.join(self.networks)}")
        if self.stuck:
            lines.append(
                f"left {len(self.stuck)} networks that Docker holds with a stale endpoint count "
                f"and no container attached (moby/moby#42119; a restart of dockerd frees them): "
                f"{', '.join(self.stuck)}"
            )
        lines += [f"could not remove {item}" for item in self.failed]
        return "\n".join(lines) or "nothing to sweep"


def is_dead(resource_labels: dict[str, str]) -> bool:
    """The run that wrote these labels is known to be gone (see labels.is_alive)."""
    return not labels.is_alive(
        resource_labels.get(labels.HOST, ""),
        resource_labels.get(labels.PID, ""),
        resource_labels.get(labels.STARTED, ""),
    )


def is_stuck(client: docker.DockerClient, net_id: str, error: docker.errors.APIError) -> bool:
    """Docker refused with "active endpoints" although no container is attached (#42119)."""
    if "active endpoints" not in str(error):
        return False
    try:
        return not client.api.inspect_network(net_id).get("Containers")
    except docker.errors.NotFound:
        return False


def sweep(client: docker.DockerClient) -> SweepReport:
    """Remove every labelled container, then network, whose creating run is dead."""
    report = SweepReport()
    api = client.api
    for c in api.containers(all=True, filters={"label": labels.SESSION}):
        if is_dead(c.get("Labels") or {}):
            name = c["Names"][0].lstrip("/")
            try:
                api.remove_container(c["Id"], force=True, v=True)
                report.containers.append(name)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                report.failed.append(f"container {name}: {exc.explanation}")
    for n in api.networks(filters={"label": labels.SESSION}):
        if is_dead(n.get("Labels") or {}):
            try:
                api.remove_network(n["Id"])
                report.networks.append(n["Name"])
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if is_stuck(client, n["Id"], exc):
                    report.stuck.append(n["Name"])
                else:
                    report.failed.append(f"network {n['Name']}: {exc.explanation}")
    return report
