"""Docker Compose projects as topologies: brought up from a file for the test and torn down with
it, or a project already running, attached to and left running.

Either way the project's containers and networks become the same ``Container`` and ``Network``
values as the plugin's own, so every assertion reads them. A project brought up here carries
the run's identity twice: in its name (``dn-<run>-<scope>-<name>``) and in the labels the
override adds to everything it creates, which the sweep of dead runs finds.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

from ..engine import labels
from ..engine.client import exit_report
from ..engine.lock import machine_lock
from ..engine.teardown import NotRemoved, remove_container, remove_network, remove_volume
from ..errors import ComposeError, WaitTimeout
from ..model import Container, Network, Registry
from ..retry import NotYet, wait_until
from .compose_cli import (
    ALL_PROFILES,
    PROJECT,
    SERVICE,
    missing_images,
    override,
    project_name,
    read_config,
    run,
    unknown_names,
)
from .containers import DNS_SINK
from .context import BuildContext
from .existing import container_from, network_from

NUMBER = "com.docker.compose.container-number"
NETWORK = "com.docker.compose.network"
WAIT = 60.0
"""Seconds ``wait=True`` gives the services to run, and to be healthy where checked."""


@dataclass(eq=False)
class ComposeProject:
    """One Compose project's services and networks, as the assertions' values.

    ``dockernet.compose()`` returns it, and so does the ``dockernet_compose`` fixture.

    Attributes:
        files: the compose files it was brought up from (none when attached to by name).
        env: the variables given for the files' interpolation.

    Example:
        ```python
        stack = dockernet.compose(tmp_path, env={"IMAGE": dockernet.image})
        web, api = stack.services["web"], stack.services["api"]
        assert_bridge_members(stack.networks["back"], [web, api], exact=True)
        assert_resolves(web, "api", to=api)
        stack.replicas("worker")  # every replica, in Compose's numbering
        ```
    """

    project: str
    """Compose's project name (``docker compose -p``)."""
    services: dict[str, Container]
    """Each service's first replica: every service that runs (one behind a profile that was
    not activated or named is not there). A service with ``network_mode: host`` or
    ``service:<name>`` is one too; its ``network_mode`` says so, and what would enter its
    namespace refuses it (``Container.check_own_namespace``)."""
    networks: dict[str, Network]
    """Each network by its name in the compose file (``default`` included)."""
    owned: bool
    """Brought up by the plugin, and so taken down with the DockerNet."""
    files: tuple[Path, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    _replicas: dict[str, tuple[Container, ...]] = field(default_factory=dict, repr=False)

    def replicas(self, service: str) -> tuple[Container, ...]:
        """Every replica of ``service``, in Compose's numbering."""
        try:
            return self._replicas[service]
        except KeyError:
            raise ValueError(
                f"compose project {self.project!r} has no service {service!r} running "
                f"(it has: {', '.join(sorted(self._replicas)) or 'none'})"
            ) from None

    def __repr__(self) -> str:
        return f"<ComposeProject {self.project} services={sorted(self.services)}>"


def _read(registry: Registry, project: str, *, existing: bool) -> ComposeProject:
    """The running project's containers and networks, registered in ``registry``."""
    api = registry.client.api
    found = api.containers(filters={"label": f"{PROJECT}={project}"})
    if not found:
        raise ValueError(
            f"no running container belongs to compose project {project!r} "
            "(`docker compose ls` lists the projects)"
        )
    networks: dict[str, Network] = {}
    for data in api.networks(filters={"label": f"{PROJECT}={project}"}):
        inspected = api.inspect_network(data["Id"])
        key = (inspected.get("Labels") or {}).get(NETWORK, inspected["Name"])
        networks[key] = network_from(registry, inspected, inspected["Name"], existing=existing)
        if key != inspected["Name"]:
            networks[key].known_as = key
    replicas: dict[str, list[tuple[int, Container]]] = {}
    for summary in found:
        data = api.inspect_container(summary["Id"])
        name = data["Name"].lstrip("/")
        if not data["State"]["Running"]:  # it ended since it was listed
            if data["State"].get("ExitCode"):
                raise ComposeError(exit_report(registry.client, name, data["Id"]))
            continue  # a one-shot service that did its work
        container = container_from(registry, data, name, existing=existing)
        own = data["Config"].get("Labels") or {}
        number = int(own.get(NUMBER, "1") or 1)
        replicas.setdefault(own.get(SERVICE, container.name), []).append((number, container))
        for net in container.networks:  # an external network the services use
            if net not in networks.values():
                networks[net.name] = net
    ordered = {s: tuple(c for _, c in sorted(rs, key=lambda r: r[0])) for s, rs in replicas.items()}
    for service, numbered in replicas.items():  # shown in messages as the file names them
        for number, container in numbered:
            container.known_as = service if len(numbered) == 1 else f"{service}-{number}"
    return ComposeProject(
        project,
        {s: cs[0] for s, cs in ordered.items()},
        networks,
        owned=not existing,
        _replicas=ordered,
    )


def attach(registry: Registry, project: str) -> ComposeProject:
    """A project that is already running, by its Compose name; it is never taken down."""
    if not isinstance(project, str) or not project:
        raise TypeError(f"project= must be a compose project name, got {project!r}")
    return _read(registry, project, existing=True)


def _files(path: str | Path | Sequence[str | Path]) -> tuple[Path, ...]:
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    files = []
    for p in paths:
        file = Path(p)
        if file.is_dir():
            candidates = [file / n for n in ("compose.yaml", "compose.yml", "docker-compose.yml")]
            file = next((c for c in candidates if c.is_file()), candidates[0])
        if not file.is_file():
            raise ValueError(f"compose file {str(file)!r} does not exist: pass the file's path")
        files.append(file.resolve())
    if not files:
        raise ValueError("compose(path=[]) names no file: pass a compose file's path")
    return tuple(files)


def names(value: Sequence[str] | None, what: str) -> tuple[str, ...]:
    """``services=`` or ``profiles=`` as a tuple of names; a TypeError for a bare string (it
    would read as one name per letter) or anything else that is not a sequence of strings.

    E.g. ``names(["seed"], "services")`` is ``("seed",)``; ``names(None, ...)`` is ``()``.
    """
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"{what}= takes a list of names, e.g. [{value!r}], got {value!r}")
    for name in value:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{what}= takes a list of names, got {name!r} in {list(value)!r}")
    return tuple(value)


def up(
    registry: Registry,
    identity: labels.RunIdentity,
    run_name: str,
    path: str | Path | Sequence[str | Path],
    *,
    services: Sequence[str] = (),
    profiles: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    wait: bool = True,
    dns_sink: bool = True,
    scratch: Path,
) -> ComposeProject:
    """Bring the file's project up under the run's name and labels, as ``docker compose
    --profile P... up SERVICE...`` does (a service named starts even behind a profile); on
    any failure, take down whatever it created before raising."""
    files = _files(path)
    project = project_name(run_name)
    if services or profiles:  # names a typo would make silently start less
        everything = read_config(project, files, env, profiles=[ALL_PROFILES])
        wrong = unknown_names(everything, services, profiles, files[0].name)
        if wrong is not None:
            raise ValueError(wrong)
    config = read_config(project, files, env, profiles=profiles, services=services)
    present = [t for img in registry.client.api.images() for t in (img.get("RepoTags") or [])]
    present += [img["Id"] for img in registry.client.api.images()]
    missing = missing_images(config, present)
    if missing:
        shown = ", ".join(f"{s}: {i}" for s, i in sorted(missing.items()))
        raise ComposeError(
            f"compose project {files[0].name} needs images this engine does not have ({shown}): "
            "the plugin never pulls; load or build them first (`docker load`, `docker import`, "
            "`docker build`), or give the service a `build:`"
        )
    ours = identity.labels(project)
    extra = override(
        config,
        dict.fromkeys(("service", "networks", "volumes"), ours),
        DNS_SINK if dns_sink else None,
    )
    override_file = scratch / f"{project}.override.json"
    override_file.write_text(json.dumps(extra, indent=1))
    owned = ComposeProject(
        project, {}, {}, owned=True, files=(*files, override_file), env=env or {}
    )
    try:
        # Compose creates networks and starts containers: Docker rewrites its rules.
        with machine_lock().writing(f"compose up {project}"):
            run(
                project,
                owned.files,
                ["up", "--detach", "--pull", "never", "--remove-orphans", *services],
                env=env,
                profiles=profiles,
            )
        if wait:
            wait_until_up(registry.client, project, WAIT)
        read = _read(registry, project, existing=False)
    except BaseException:
        down(registry.client, owned)
        raise
    read.files, read.env = owned.files, owned.env
    return read


def wait_until_up(client: docker.DockerClient, project: str, within: float) -> None:
    """Every container of the project runs, and is healthy where it has a healthcheck; a
    ComposeError naming the laggard (and a dead one's exit and logs) when ``within`` ends."""

    def up() -> bool | NotYet:
        waiting = []
        for summary in client.api.containers(all=True, filters={"label": f"{PROJECT}={project}"}):
            state = client.api.inspect_container(summary["Id"])["State"]
            name = summary["Names"][0].lstrip("/")
            if state["Status"] == "exited" and state.get("ExitCode") != 0:
                raise ComposeError(exit_report(client, name, summary["Id"]))
            health = (state.get("Health") or {}).get("Status")
            if state["Status"] == "running" and health in (None, "healthy"):
                continue
            if state["Status"] == "exited":
                continue  # a one-shot service that did its work
            waiting.append(f"{name}: {state['Status']}{f', {health}' if health else ''}")
        return not waiting or NotYet("; ".join(waiting))

    try:
        wait_until(
            up,
            within,
            f"every container of compose project {project!r} to run (and be healthy where "
            "it has a healthcheck)",
            interval=0.2,
        )
    except WaitTimeout as exc:
        raise ComposeError(str(exc)) from None  # compose's failures are all ComposeErrors


def down(client: docker.DockerClient, project: ComposeProject) -> list[NotRemoved]:
    """Take an owned project down (``down -v --remove-orphans``), then remove whatever still
    carries both its name and the plugin's labels (a ``down`` that failed half-way)."""
    if not project.owned:
        return []
    problems: list[NotRemoved] = []
    try:
        with machine_lock().writing(f"compose down {project.project}"):
            run(
                project.project,
                project.files,
                ["down", "--volumes", "--remove-orphans", "--timeout", "0"],
                env=project.env,
            )
    except ComposeError as exc:
        problems.append(NotRemoved("compose project", project.project, str(exc)))
    ours = {"label": [f"{PROJECT}={project.project}", labels.SESSION]}
    api = client.api
    left = [
        remove_container(client, c["Id"], c["Names"][0].lstrip("/"))
        for c in api.containers(all=True, filters=ours)
    ]
    left += [remove_network(client, n["Id"], n["Name"]) for n in api.networks(filters=ours)]
    left += [
        remove_volume(client, v["Name"]) for v in api.volumes(filters=ours).get("Volumes") or []
    ]
    remaining = [p for p in left if p is not None]
    return [*problems, *remaining] if remaining else []


def compose(
    ctx: BuildContext,
    path: str | Path | Sequence[str | Path] | None = None,
    *,
    project: str | None = None,
    services: Sequence[str] | None = None,
    profiles: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    wait: bool = True,
    dns_sink: bool = True,
) -> ComposeProject:
    """A Docker Compose v2 project as a topology.

    With ``path`` (a file, a directory holding compose.yaml, or several files): brought up
    under a name carrying the run's identity (``project`` is then its readable part),
    ``--pull never``, as ``docker compose --profile P... up SERVICE...`` does: only
    ``services`` (and what they depend on) when given, a service named starting even
    behind a profile; ``profiles`` activated (``"*"``: all). With ``wait``, until every
    container runs and is healthy where it has a healthcheck; taken down (``down -v
    --remove-orphans``) with its DockerNet. ``dns_sink`` sends names Docker does not know
    to loopback, as for the plugin's containers. With only ``project``: the project already
    running under that name, never taken down.

    Example::

        stack = dockernet.compose("deploy/compose.yaml", services=["web"], profiles=["debug"])
        assert_reachable(stack.services["web"], stack.services["db"])
    """
    if path is None:
        if project is None:
            raise ValueError("compose() needs path= (a compose file) or project= (a running one)")
        if services is not None or profiles is not None or env is not None:
            raise ValueError(
                "services=, profiles= and env= apply when bringing a file up; "
                "compose(project=...) attaches to a running project as it is"
            )
        return attach(ctx.registry, project)
    if project is not None:
        readable = project
    elif isinstance(path, (str, Path)):
        where = Path(path).resolve()
        readable = where.name if where.is_dir() else where.parent.name
    else:
        readable = "compose"
    made = up(
        ctx.registry,
        ctx.identity,
        ctx.docker_name(readable),
        path,
        services=names(services, "services"),
        profiles=names(profiles, "profiles"),
        env=env,
        wait=wait,
        dns_sink=dns_sink,
        scratch=ctx.scratch(),
    )
    ctx.teardowns.append(functools.partial(down, ctx.client, made))
    return made
