"""Observations of the running test, with run-specific values replaced by stable names.

The assertions report what they observed here; nothing is kept unless a recorder is active
(``--dockernet-record``, ``--dockernet-compare`` or ``--dockernet-report``, set around each
test's call by the plugin). A probe also reports its two ends and what came back
(:class:`Probe`), which the report draws as an edge.
Names come from the test's DockerNet: ``10.199.7.3`` becomes ``<h1 on a>``, ``br-5e1c…``
becomes ``<bridge of a>``, a host veth ``<veth of h1 on a>``; MACs and unknown veths and
bridges (other tests') become placeholders. Timings are never passed in.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..errors import DockernetError
from ..model import Container, Registry
from ..observe.firewall import read_counters, rules_location
from ..observe.links import holding, links
from ..probing.veths import host_port

_MAC = re.compile(r"\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b")
_OTHERS = (
    (re.compile(r"\bveth[0-9a-f]{7}\b"), "<another veth>"),
    (re.compile(r"\bbr-[0-9a-f]{12}\b"), "<another bridge>"),
    (re.compile(r"\bdnr-[0-9a-f]{6}-[0-9]+\b"), "<another bridge>"),
    (re.compile(r"\bdnr-[0-9a-f]{6}-\+"), "dnr-<family>-+"),
    (re.compile(r"\bdn-[0-9a-f]{8}-[\w.-]+"), "<another test's resource>"),
)


@dataclass(frozen=True)
class Probe:
    """One probe as the report draws it: from ``source`` to ``target`` (a container's alias, an
    upstream's name, ``host``, or the label of an address no container holds), whether it was
    ``answered``, and whether an answer was what the assertion ``expected``.

    Example::

        Probe("h1", "h2", "assert_reachable", answered=False, expected=True).failed  # True
    """

    source: str
    target: str
    kind: str
    answered: bool
    expected: bool
    detail: str = ""
    """What else the assertion saw (``5432/tcp``; a reply's error), shown on the edge."""
    why: str = ""
    """For a failed probe, what the plugin found of its fate: the rule that dropped it, where
    its trace last saw it (:func:`explain`)."""

    @property
    def failed(self) -> bool:
        return self.answered != self.expected


def explain(why: str) -> None:
    """Attach ``why`` (the diagnosis of a failed assertion) to the running test's last probe;
    a no-op when not recording.

    Example::

        explain(why_unanswered(h1, h2, address, 1, 1.0))
    """
    recorder = _current.get()
    if recorder is not None and recorder.probes:
        recorder.probes[-1] = dataclasses.replace(recorder.probes[-1], why=why)


def end(container: Container | None, fallback: str) -> str:
    """The name a :class:`Probe` gives one of its ends: an upstream's name for an upstream's
    container, else the container's alias, else ``fallback`` (the host, an outside address).

    Example::

        end(internet.container, "203.0.113.9")  # "internet"
    """
    if container is None:
        return fallback
    upstream = container.registry.upstream_of(container)
    return upstream.name if upstream is not None else container.alias


@dataclass
class Recorder:
    """The observations of one test, in the order it made them."""

    observations: list[dict[str, Any]] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    """Every probe's ends, kept for the report; a record keeps each observation's probes with
    it, in stable names, for ``dockernet-diff --html`` to draw."""
    context: bool = True
    """Read what lies under a verdict (the firewall rules on the path, interface names): a
    record and a comparison need it; the report alone does not, and skips the reading."""
    registries: list[Registry] = field(default_factory=list)
    """The test's DockerNets: their names also replace values an assertion was given as plain
    strings (``assert_host_route(net.subnet, dev=net.bridge)``)."""


_current: ContextVar[Recorder | None] = ContextVar("dockernet_recorder", default=None)


@contextlib.contextmanager
def recording(recorder: Recorder) -> Iterator[Recorder]:
    """Make ``recorder`` receive the observations made inside the block, and yield it; inside
    another recording block (a record and a report of the same test), yield the recorder
    already receiving them instead, which then keeps context if either asks for it, and
    knows the registries of both.

    Example::

        with recording(Recorder(context=False)) as recorder:
            assert_reachable(h1, h2)
        recorder.probes  # [Probe(source='h1', target='h2', ...)]
    """
    outer = _current.get()
    if outer is not None:
        outer.context = outer.context or recorder.context
        outer.registries += [r for r in recorder.registries if r not in outer.registries]
        yield outer
        return
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


def active() -> bool:
    """Whether an observation would be kept (so that it is assembled only then)."""
    return _current.get() is not None


def wants_context() -> bool:
    """Whether the costly context of an observation would be kept (firewall rules, names)."""
    recorder = _current.get()
    return recorder is not None and recorder.context


def stable_names(registry: Registry) -> dict[str, str]:
    """Every run-specific value of a DockerNet, mapped to the name a record uses for it."""
    names: dict[str, str] = {}
    for net in registry.networks.values():
        names[net.name] = net.alias
        names[net.id] = names[net.id[:12]] = f"<id of network {net.alias}>"
        names[net.bridge] = f"<bridge of {net.alias}>"
        if net.subnet is not None:
            names[str(net.subnet)] = f"<subnet of {net.alias}>"
            names[str(net.gateway)] = f"<gateway of {net.alias}>"
        if net.subnet6 is not None:
            names[str(net.subnet6)] = f"<IPv6 subnet of {net.alias}>"
            names[str(net.gateway6)] = f"<IPv6 gateway of {net.alias}>"
    for c in registry.containers.values():
        names[c.name] = c.alias
        if c.state is not None or (c.starting is not None and c.starting.done()):
            with contextlib.suppress(Exception):  # a start that failed has no id to name
                names[c.id] = names[c.id[:12]] = f"<id of container {c.alias}>"
        for net, ip6 in c.addresses6.items():
            names[str(ip6)] = f"<{c.alias} on {net.alias} over IPv6>"
        for net, ip in c.addresses.items():
            names[str(ip)] = f"<{c.alias} on {net.alias}>"
            try:
                port = host_port(c, net)
            except (DockernetError, OSError):
                port = None  # not running: nothing of it can be in an observation
            if port is not None:
                names[port.name] = f"<veth of {c.alias} on {net.alias}>"
    for u in registry.upstreams.values():
        names[str(u.address)] = f"<upstream {u.name}>"
        names[str(u.host_address)] = f"<host address facing {u.name}>"
        names[u.host_interface] = f"<host link to {u.name}>"
        if u.address6 is not None:
            names[str(u.address6)] = f"<upstream {u.name} over IPv6>"
            names[str(u.host_address6)] = f"<host IPv6 address facing {u.name}>"
            names[str(u.subnet6)] = f"<IPv6 link to {u.name}>"
    return names


class Normaliser:
    def __init__(self, names: Mapping[str, str]) -> None:
        keys = sorted(names, key=len, reverse=True)
        self._names = dict(names)
        self._pattern = (
            re.compile("|".join(rf"(?<![\w.]){re.escape(k)}(?![\w]|\.\d)" for k in keys))
            if keys
            else None
        )

    def text(self, value: str) -> str:
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._names[m.group(0)], value)
        value = _MAC.sub("<mac>", value)
        for pattern, placeholder in _OTHERS:
            value = pattern.sub(placeholder, value)
        return value

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(v) for v in value]
        return value


def observe(
    kind: str,
    registry: Registry | None,
    subject: str,
    passed: bool,
    facts: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    probes: Sequence[Probe] = (),
) -> None:
    """Keep one observation for the running test, in stable names, and the ``probes`` it made;
    a no-op when not recording."""
    recorder = _current.get()
    if recorder is None:
        return
    recorder.probes.extend(probes)
    names: dict[str, str] = {}
    # Stable names read every container's host veth: only a record and a comparison need
    # them (the report alone shows this run's own names, and skips the reading).
    known = [*recorder.registries, *([registry] if registry else [])] if recorder.context else []
    for held in dict.fromkeys(known):
        names.update(stable_names(held))
    normalise = Normaliser(names)
    recorder.observations.append(
        {
            "kind": kind,
            "subject": normalise(subject),
            "verdict": "pass" if passed else "fail",
            "facts": normalise(dict(facts)),
            "context": normalise(dict(context or {})),
            **({"probes": [_drawn(p, normalise) for p in probes]} if probes else {}),
        }
    )


def _drawn(probe: Probe, normalise: Normaliser) -> dict[str, Any]:
    """A probe as a record keeps it for drawing (never compared: its observation's verdict
    and facts are): its ends, its outcome, and what else was seen, in stable names."""
    return {
        "source": probe.source,
        "target": normalise.text(probe.target),
        "kind": probe.kind,
        "answered": probe.answered,
        "expected": probe.expected,
        "detail": normalise.text(probe.detail),
    }


def path_rules(registry: Registry, interfaces: set[str], address: str) -> list[str]:
    """The firewall rules that name the probe's bridges or its destination, as the tool prints
    them (without counters): what decided the path underneath the verdict. Read only when
    recording."""
    if not wants_context():
        return []
    try:
        found = read_counters(rules_location(registry.engine_info))
    except DockernetError as exc:
        return [f"(the firewall could not be read: {exc})"]
    wanted = re.compile(
        "|".join(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])" for name in (*interfaces, address))
    )
    return [f"{c.table} {c.text}" for c in found if not c.policy and wanted.search(c.text)]


def interface_names(container: Container) -> dict[str, str]:
    """A container's interfaces by the network they are on: with several networks, which one
    is ``eth0`` changes from run to run on Docker 28, so a record names ``<router's link on
    a>`` instead. Empty when not recording (nothing is read then)."""
    if not wants_context():
        return {}
    try:
        inside = links(container.pid)
    except (DockernetError, OSError):
        return {}
    names = {}
    for net in container.networks:  # an IPv6-only network's link holds its IPv6 address
        ip = container.addresses.get(net) or container.addresses6.get(net)
        link = None if ip is None else holding(inside, ip)
        if link is not None:
            names[link.name] = f"<{container.alias}'s link on {net.alias}>"
    return names


def rename_interfaces(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each interface name of ``names`` replaced where it stands as a word."""
    for name, stable in names.items():
        text = re.sub(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", stable, text)
    return text
