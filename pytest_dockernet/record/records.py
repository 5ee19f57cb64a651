"""The record of what a run observed, and the comparison of two records.

A record is JSON with a format name and version, the engine's facts, and for every test (by
node id) its observations in the order the test made them. Each observation holds:

* ``verdict``: ``pass`` or ``fail``;
* ``facts``: what the assertion decided on (routes, bridge ports, ping replies and their ttl,
  a packet's hops, masquerading by meaning). A difference here fails the comparison;
* ``context``: what lies underneath (the firewall rules on the path, as the tool prints them).
  A difference here is shown as information: the same verdict can rest on other rules after
  an upgrade (Docker 28 accepts replies in ``DOCKER-CT`` before its isolation chains);
* ``probes`` (for assertions that send packets): each probe's ends and outcome, which
  ``dockernet-diff --html`` draws; never compared (the verdict and facts are).

Beside the tests, ``outlines`` keeps each test's networks, containers and upstreams without
their addresses (:func:`pytest_dockernet.record.snapshot.outline`): the picture a diff draws
its probes on. A record without them (an older one) is still read; its diff has no picture.

Run-specific values (ids, generated names, allocated subnets and addresses, MACs, veth and
bridge names) are already replaced by stable names when an observation is made, and timings
are never recorded, so a record diffs well in git and compares across runs and engines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT = "pytest-dockernet-record"
VERSION = 1


class RecordError(ValueError):
    """A file that is not a record this version can read."""


@dataclass
class Record:
    engine: dict[str, str] = field(default_factory=dict)
    tests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    outlines: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> str:
        body = {
            "format": FORMAT,
            "version": VERSION,
            "engine": self.engine,
            "tests": self.tests,
            "outlines": self.outlines,
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    def observations(self) -> int:
        return sum(len(found) for found in self.tests.values())


def parse(text: str, where: str = "record") -> Record:
    """A record from its JSON; RecordError naming the file and the problem otherwise."""
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise RecordError(f"{where} is not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise RecordError(f"{where} is not a pytest-dockernet record (no format {FORMAT!r})")
    if body.get("version") != VERSION:
        raise RecordError(
            f"{where} is a record of version {body.get('version')!r}; this pytest-dockernet "
            f"reads version {VERSION}: record it again with this version"
        )
    tests = body.get("tests")
    if not isinstance(tests, dict):
        raise RecordError(f"{where} has no 'tests' mapping")
    outlines = body.get("outlines") or {}
    if not isinstance(outlines, dict):
        raise RecordError(f"{where} has an 'outlines' entry that is not a mapping")
    return Record(engine=dict(body.get("engine") or {}), tests=tests, outlines=outlines)


def load(path: str | Path) -> Record:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordError(f"cannot read record {path}: {exc.strerror}") from None
    return parse(text, str(path))


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested facts as ``path: value``, so that a diff names the fact that changed."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(_flat(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out or {prefix: {}}
    if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        out = {}
        for i, item in enumerate(value, 1):
            out.update(_flat(item, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def _shown(value: Any) -> str:
    return "(absent)" if value is _ABSENT else json.dumps(value, sort_keys=True)


_ABSENT = object()


def _changes(before: Any, after: Any) -> list[str]:
    """One line per changed fact; for lists of lines (routes, rules), the lines that went and
    came, so that a long list shows only what changed."""
    old, new = _flat(before), _flat(after)
    lines = []
    for key in sorted(old.keys() | new.keys()):
        was, now = old.get(key, _ABSENT), new.get(key, _ABSENT)
        if was == now:
            continue
        if (
            isinstance(was, list)
            and isinstance(now, list)
            and all(isinstance(v, str) for v in (*was, *now))
        ):
            gone = [v for v in was if v not in now]
            came = [v for v in now if v not in was]
            lines += [f"{key}: - {v}" for v in gone] + [f"{key}: + {v}" for v in came]
            if not gone and not came:
                lines.append(f"{key}: same lines, in another order")
            continue
        lines.append(f"{key}: {_shown(was)} -> {_shown(now)}")
    return lines


@dataclass
class TestDiff:
    """How one test's observations differ between two records."""

    failing: list[str] = field(default_factory=list)
    informing: list[str] = field(default_factory=list)
    compared: int = 0

    def text(self, before_engine: str, after_engine: str) -> str:
        lines = [f"before: {before_engine}", f"after:  {after_engine}"]
        if self.failing:
            lines += ["observations that differ:", *(f"  {line}" for line in self.failing)]
        if self.informing:
            lines += [
                "changed underneath (information):",
                *(f"  {line}" for line in self.informing),
            ]
        return "\n".join(lines)


def _label(n: int, observation: Mapping[str, Any]) -> str:
    return f"#{n} {observation.get('kind')} {observation.get('subject')}"


def _grouped(label: str, changes: list[str]) -> list[str]:
    """One line for one change; the observation's label over its changes otherwise."""
    if len(changes) <= 1:
        return [f"{label}: {change}" for change in changes]
    return [f"{label}:", *(f"    {change}" for change in changes)]


def compare_test(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> TestDiff:
    """Observation by observation, in order: verdicts and facts fail, context informs."""
    diff = TestDiff(compared=min(len(before), len(after)))
    for n, (old, new) in enumerate(zip(before, after, strict=False), 1):
        label = _label(n, new)
        if (old.get("kind"), old.get("subject")) != (new.get("kind"), new.get("subject")):
            diff.failing.append(f"{label}: was {_label(n, old)}")
            continue
        if old.get("verdict") != new.get("verdict"):
            diff.failing.append(f"{label}: verdict {old.get('verdict')} -> {new.get('verdict')}")
        diff.failing += _grouped(label, _changes(old.get("facts"), new.get("facts")))
        diff.informing += _grouped(label, _changes(old.get("context"), new.get("context")))
    for n, extra in enumerate(after[len(before) :], len(before) + 1):
        diff.failing.append(f"{_label(n, extra)}: new, not in the record")
    for n, gone in enumerate(before[len(after) :], len(after) + 1):
        diff.failing.append(f"{_label(n, gone)}: in the record, not made now")
    return diff


def engine_line(engine: Mapping[str, str]) -> str:
    return engine.get("summary") or "(engine not recorded)"


@dataclass
class Comparison:
    """Two whole records compared, for ``dockernet-diff`` and the end of a compared run."""

    diffs: dict[str, TestDiff]
    only_before: list[str]
    only_after: list[str]

    @property
    def compared(self) -> int:
        return sum(d.compared for d in self.diffs.values())

    @property
    def failing(self) -> list[str]:
        return sorted(node for node, d in self.diffs.items() if d.failing)

    def summary(self) -> str:
        differing = sum(len(d.failing) for d in self.diffs.values())
        informing = sum(1 for d in self.diffs.values() if d.informing)
        return (
            f"{self.compared} observations compared in {len(self.diffs)} tests: {differing} "
            f"differ ({len(self.failing)} tests); {informing} tests changed underneath; "
            f"{len(self.only_before)} tests only in the record, {len(self.only_after)} only now"
        )


def compare(before: Record, after: Record, nodes: Iterable[str] | None = None) -> Comparison:
    wanted = set(after.tests if nodes is None else nodes)
    common = sorted(wanted & before.tests.keys() & after.tests.keys())
    return Comparison(
        diffs={n: compare_test(before.tests[n], after.tests[n]) for n in common},
        only_before=sorted(before.tests.keys() - after.tests.keys()),
        only_after=sorted(after.tests.keys() - before.tests.keys()),
    )
