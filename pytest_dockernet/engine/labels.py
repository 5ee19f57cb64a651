"""Label keys and names that mark a resource as this plugin's, and as one run's.

Every container and network carries these labels, so a later run can tell a leftover of a dead
run from a resource of a live one, and never touches anything without them.
"""

from __future__ import annotations

import os
import re
import socket
import uuid
from dataclasses import dataclass

PREFIX = "pytest-dockernet"
SESSION = f"{PREFIX}.session"
"""Label holding the run id; present on everything the plugin creates."""
HOST = f"{PREFIX}.host"
PID = f"{PREFIX}.pid"
STARTED = f"{PREFIX}.started"
"""Process start time (clock ticks since boot), so a reused pid is not taken for a live run."""
NAME = f"{PREFIX}.name"
"""The name the test gave, before the run's unique suffix."""

_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}$")


def process_start_ticks(pid: int) -> str:
    """Start time of ``pid`` from /proc, or "" when the process does not exist."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            stat = f.read()
    except OSError:
        return ""
    # The command name (field 2) may hold spaces and parentheses: split after the last ")".
    return stat.rsplit(")", 1)[1].split()[19]


@dataclass(frozen=True)
class RunIdentity:
    """Who created a resource: a run id plus the host, pid and start time of its process."""

    run_id: str
    host: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> RunIdentity:
        pid = os.getpid()
        return cls(
            run_id=f"{uuid.uuid4().hex[:8]}",
            host=socket.gethostname(),
            pid=pid,
            started=process_start_ticks(pid),
        )

    def labels(self, name: str) -> dict[str, str]:
        """The labels for a resource the test called ``name``."""
        return {
            SESSION: self.run_id,
            HOST: self.host,
            PID: str(self.pid),
            STARTED: self.started,
            NAME: name,
        }

    def docker_name(self, name: str) -> str:
        """Docker's name for ``name``: unique per run, still readable in ``docker ps``."""
        return f"dn-{self.run_id}-{name}"


def check_name(name: object, what: str) -> str:
    """Validate a name the test gave; it becomes a DNS alias and part of a Docker name."""
    if not isinstance(name, str):
        raise TypeError(f"{what} name must be a str, got {type(name).__name__}: {name!r}")
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"{what} name {name!r} is not usable: use 1-41 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (it becomes a DNS alias and part of a Docker name)"
        )
    return name


def is_alive(host: str, pid: str, started: str) -> bool:
    """True when the run that wrote these labels may still be alive (unknown counts as alive)."""
    if host != socket.gethostname():
        return True
    try:
        pid_int = int(pid)
    except ValueError:
        return True
    now = process_start_ticks(pid_int)
    return bool(now) and (not started or now == started)
