"""What every part of the benchmark shares: the run's label, subnets, subprocesses, cleanup."""

from __future__ import annotations

import itertools
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from pytest_dockernet.engine import images, labels
from pytest_dockernet.engine.teardown import remove_labelled

BENCH_DIR = Path(__file__).resolve().parent
IMAGE = images.DEFAULT_IMAGE
"""Every implementation runs this image; it is built locally, never pulled."""

# Fixed subnets of the baselines (and of scenario 2 everywhere), inside 10.231.200.0/21: clear
# of the plugin's pool (10.199.0.0/16) and of the subnets the project's own tests use.
SUBNET_S1 = "10.231.200.0/24"
SUBNET_S2_A = "10.231.201.0/24"
SUBNET_S2_B = "10.231.202.0/24"
SUBNET_MATRIX = "10.231.203.0/24"
SUBNET_PORTS = "10.231.204.0/24"
MATRIX_MAX = 200
"""Matrix containers get 10.231.203.(10+i), port-matrix ones 10.231.204.(10+i): at most 200."""
PORT = 5432
"""The TCP port every container of the port matrix serves."""


class BenchError(RuntimeError):
    """A scenario did not do what it should (a ping failed, a command exited non-zero)."""


@dataclass
class BenchSession:
    """One benchmark run: its id (the label value) and the child processes it started."""

    id: str
    children: list[tuple[str, str]] = field(default_factory=list)
    """(pid, start time) of each child: the plugin labels what a pytest child creates so."""
    _counter: itertools.count[int] = field(default_factory=itertools.count, repr=False)

    @classmethod
    def new(cls, run_id: str | None = None) -> BenchSession:
        return cls(run_id or f"bench-{os.urandom(4).hex()}")

    @property
    def label(self) -> str:
        """``key=value`` for ``docker --label`` and ``--filter label=``."""
        return f"{labels.SESSION}={self.id}"

    @property
    def docker_labels(self) -> dict[str, str]:
        return {labels.SESSION: self.id}

    def identity(self) -> labels.RunIdentity:
        """The plugin's identity for DockerNets made here: the run id is this session's."""
        base = labels.RunIdentity.current()
        return labels.RunIdentity(self.id, base.host, base.pid, base.started)

    def unique(self, stem: str) -> str:
        """``stem`` plus a counter: a fresh name or scope for each repetition."""
        return f"{stem}{next(self._counter)}"


@dataclass(frozen=True)
class Finished:
    """A child process that exited 0: its output and its wall time."""

    stdout: str
    stderr: str
    seconds: float


def run_process(
    cmd: Sequence[str],
    session: BenchSession,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> Finished:
    """Run ``cmd`` and time it; a non-zero exit raises BenchError with the output's tail.

    On Ctrl-C or an error the child gets SIGTERM and time to clean up after itself (the CLI
    scripts' trap, the plugin's teardown) before it is killed.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        list(cmd),
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    session.children.append((str(proc.pid), labels.process_start_ticks(proc.pid)))
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        proc.terminate()
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = "\n".join((out + err).strip().splitlines()[-25:])
        raise BenchError(f"{' '.join(cmd)} exited {proc.returncode}:\n{tail}")
    return Finished(out, err, seconds)


def run_script(name: str, args: Sequence[str], session: BenchSession) -> Finished:
    """One of the CLI baselines in ``bench/`` (``cli_*.sh``), with this session's label."""
    return run_process(
        ["bash", str(BENCH_DIR / name), *args, session.id], session, env={"BENCH_IMAGE": IMAGE}
    )


def _ours(resource_labels: Mapping[str, str], session: BenchSession) -> bool:
    """Created by this run: its label, or the plugin's labels naming one of our children.

    A child is known by host, pid and start time, so a reused pid is not taken for ours.
    """
    if resource_labels.get(labels.SESSION) == session.id:
        return True
    creator = (resource_labels.get(labels.PID, ""), resource_labels.get(labels.STARTED, ""))
    return resource_labels.get(labels.HOST) == socket.gethostname() and creator in set(
        session.children
    )


def cleanup(client: docker.DockerClient, session: BenchSession) -> list[str]:
    """Remove what this run created and is still there; nothing else.

    Returns what it found: each name, with the error for any it could not remove.
    """
    found = remove_labelled(client, lambda resource_labels: _ours(resource_labels, session))
    return [
        *found.containers,
        *found.networks,
        *(f"{n.name} (NOT REMOVED: {n.reason})" for n in found.not_removed),
    ]


def foreign_containers(client: docker.DockerClient, session: BenchSession) -> int:
    """Running containers this run did not create: other load that skews the timings."""
    return sum(
        1
        for c in client.api.containers(filters={"status": "running"})
        if not _ours(c.get("Labels") or {}, session)
    )


def phases(t0: float, t1: float, t2: float, t3: float) -> dict[str, float]:
    """Set-up, probing and teardown from four clock readings, and their total."""
    return {"total": t3 - t0, "setup": t1 - t0, "probing": t2 - t1, "teardown": t3 - t2}


def vmrss_kb() -> int:
    """This process's resident set now (``VmRSS`` of /proc/self/status), in KiB."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError("/proc/self/status has no VmRSS line")


def machine(client: docker.DockerClient) -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    version = client.version()
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "docker_server": version.get("Version", "?"),
        "docker_api": version.get("ApiVersion", "?"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg": os.getloadavg(),
        "executable": sys.executable,
    }
