"""Docker Compose v2, run as the CLI it is (no maintained API library exists): finding it,
reading a project's resolved configuration, and the override that makes a project the run's.

The override is a second ``-f`` file (JSON, which is YAML): it adds the run's labels to every
service, network and volume the project creates, so that the sweep of dead runs finds them
like any other resource of the plugin's; and it sends each service's unknown names to
loopback (``dns``), as for the plugin's own containers, so no DNS query leaves the machine.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ComposeError

INSTALL_HINT = (
    "install Docker Compose v2: on Debian, the docker-compose package of trixie or newer "
    "(`apt-get install --no-install-recommends docker-compose/trixie`, with trixie in apt's "
    "sources; scripts/setup-host.sh does it), elsewhere the docker-compose-plugin package"
)
TIMEOUT = 300.0
"""Seconds one compose command may take (``up`` of a big project included)."""
PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
ALL_PROFILES = "*"
"""``--profile '*'``: Compose activates every profile."""
_VERSION = re.compile(r"v?(\d+)\.(\d+)")
_NOTE = re.compile(r'^(time="[^"]*" )?level=(warning|info|debug) |^(WARN|INFO|DEBU)\[\d+\] ')
"""A line Compose logs on its way (``level=warning``: one per unset variable), not an error."""
_PROGRESS = re.compile(r"^ [A-Z][a-z]+ \S")
"""A line of Compose's plain progress output (`` Container shop-web-1  Started``)."""


@functools.cache
def find_compose() -> tuple[str, ...]:
    """The command that runs Compose v2: ``docker compose``, else a v2 ``docker-compose``."""
    seen = []
    for command in (("docker", "compose"), ("docker-compose",)):
        if shutil.which(command[0]) is None:
            continue
        try:
            done = subprocess.run(
                [*command, "version", "--short"], capture_output=True, text=True, timeout=30
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        found = _VERSION.match(done.stdout.strip())
        if done.returncode == 0 and found and int(found.group(1)) >= 2:
            return command
        if done.returncode == 0:
            seen.append(f"`{' '.join(command)}` is version {done.stdout.strip()}")
    found_instead = "; ".join(seen) or "neither `docker compose` nor `docker-compose` runs"
    raise ComposeError(f"Docker Compose v2 not found ({found_instead}): {INSTALL_HINT}")


def run(
    project: str,
    files: Sequence[Path],
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    profiles: Sequence[str] = (),
) -> str:
    """Run ``compose -p PROJECT -f FILE... --profile P... ARGS``; its stdout, or a ComposeError
    with its stderr, the error first (see ``failure_message``).

    E.g. ``run("shop", [Path("compose.yaml")], ["up", "--detach"], profiles=["tools"])``.
    """
    command = [*find_compose(), "-p", project]
    for file in files:
        command += ["-f", str(file)]
    for profile in profiles:
        command += ["--profile", profile]
    command += list(args)
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise ComposeError(f"`{' '.join(command)}` took more than {TIMEOUT:.0f} s") from exc
    if done.returncode != 0:
        raise ComposeError(failure_message(command, done.returncode, done.stderr))
    return done.stdout


def failure_message(command: Sequence[str], returncode: int, stderr: str) -> str:
    """A failed command's stderr with Compose's error line(s) first, then the command, then
    every other line it printed (warnings, progress) in its order: Compose prints those before
    the error, and sixty lines of "variable is not set" would bury it.

    E.g. for the stderr of ``up`` (``level=warning msg="...variable is not set..."`` lines,
    then `` Container shop-web-1  Starting``, then ``Error response from daemon: ...``) the
    message starts with ``Error response from daemon: ...``. When every line is a warning or
    progress, they all follow the command.
    """
    errors: list[str] = []
    others: list[str] = []
    for line in stderr.splitlines():
        if line.strip():
            (others if _NOTE.match(line) or _PROGRESS.match(line) else errors).append(line)
    ran = f"`{' '.join(command)}` exited with {returncode}"
    if not errors:
        return "\n".join([f"{ran}:", *others])
    if not others:
        return "\n".join([*errors, f"({ran})"])
    return "\n".join([*errors, f"({ran}; Compose's other output, in order:)", *others])


def project_name(run_name: str) -> str:
    """A Compose project name (lower-case letters, digits, '-' and '_') for ``run_name``."""
    name = re.sub(r"[^a-z0-9_-]+", "-", run_name.lower()).strip("-_")
    return name or "compose"


def read_config(
    project: str,
    files: Sequence[Path],
    env: Mapping[str, str] | None = None,
    *,
    profiles: Sequence[str] = (),
    services: Sequence[str] = (),
) -> dict[str, Any]:
    """The project as Compose resolved it (``config --format json``): a bad file fails here,
    before anything is created. With ``profiles`` and ``services``, exactly what ``up``
    would start with them: the services of no profile or an active one, the services named
    (behind a profile or not) and what they depend on.

    E.g. ``read_config("shop", files, profiles=["*"])`` holds every service of the file.
    """
    try:
        config: dict[str, Any] = json.loads(
            run(
                project,
                files,
                ["config", "--format", "json", *services],
                env=env,
                profiles=profiles,
            )
        )
    except ComposeError as exc:
        raise ComposeError(
            f"compose file {', '.join(map(str, files))} is not usable: {exc}"
        ) from exc
    return config


def override(
    config: Mapping[str, Any], labels_for: Mapping[str, Mapping[str, str]], dns: str | None
) -> dict[str, Any]:
    """The override file's content: ``labels_for[kind]`` on every service, and on every
    network and volume the project creates (an external one is the user's: untouched);
    ``dns`` for every service that sets none and has a network namespace of its own."""
    services = {}
    for name, service in (config.get("services") or {}).items():
        extra: dict[str, Any] = {"labels": dict(labels_for["service"])}
        mode = str(service.get("network_mode") or "")
        if dns is not None and not service.get("dns") and not mode:
            extra["dns"] = [dns]
        services[name] = extra
    result: dict[str, Any] = {"services": services}
    for kind in ("networks", "volumes"):
        made = {
            name: {"labels": dict(labels_for[kind])}
            for name, spec in (config.get(kind) or {}).items()
            if not (spec or {}).get("external")
        }
        if made:
            result[kind] = made
    return result


def unknown_names(
    config: Mapping[str, Any], services: Sequence[str], profiles: Sequence[str], file: str
) -> str | None:
    """What is wrong with ``services=`` and ``profiles=`` for a project whose every service
    ``config`` holds (``read_config(..., profiles=["*"])``): names it has no service or
    profile of, and what it has; None when all are known.

    E.g. ``unknown_names(config, ["sed"], [], "compose.yaml")`` is ``"services=['sed'] are
    not in compose.yaml (it has: seed (profile tools), web)"``.
    """
    known = config.get("services") or {}
    declared = {p for service in known.values() for p in service.get("profiles") or ()}
    problems = []
    unknown = sorted(set(services) - set(known))
    if unknown:
        shown = ", ".join(
            f"{name} (profile {', '.join(known[name]['profiles'])})"
            if known[name].get("profiles")
            else name
            for name in sorted(known)
        )
        problems.append(f"services={unknown} are not in {file} (it has: {shown})")
    undeclared = sorted(set(profiles) - declared - {ALL_PROFILES})
    if undeclared:
        problems.append(
            f"profiles={undeclared} are declared by no service of {file} "
            f"(its profiles: {', '.join(sorted(declared)) or 'none'})"
        )
    return "; ".join(problems) or None


def missing_images(config: Mapping[str, Any], present: Sequence[str]) -> dict[str, str]:
    """Service to image, for the services of ``config`` that would need a pull: no ``build``
    and an image not among ``present`` (the engine's local tags and ids)."""
    missing = {}
    for name, service in (config.get("services") or {}).items():
        image = service.get("image")
        if service.get("build") or not image:
            continue
        tagged = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else f"{image}:latest"
        if tagged not in present and image not in present:
            missing[name] = image
    return missing
