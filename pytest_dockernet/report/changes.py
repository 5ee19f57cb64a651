"""What changed between two records of a test, as probes to draw: each probe of the newer
record marked ``flipped`` (answered then, not now, or the reverse), ``new``, or
``underneath`` (same outcome, other firewall rules under it), and each probe only the older
one made marked ``gone``. :func:`pytest_dockernet.report.picture.graph` draws the marks.

Probes are paired by their ends, kind and port, in the order the test made them, wherever in
the test they were made: a test that lost an observation (which the text diff reports as
such) still draws its other probes as the same ones. The firewall rules under a probe are
compared with those of the recorded observation of the same kind and subject.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..record.records import compare_test
from ..record.snapshot import same_probe

Observation = Mapping[str, Any]


def _marked(probe: Mapping[str, Any], change: str, was: str = "") -> dict[str, Any]:
    return {
        **probe,
        "failed": probe["answered"] != probe["expected"],
        "why": "",
        "change": change,
        "was": was,
    }


def _underneath(old: Observation, new: Observation) -> list[str]:
    """The lines of context (firewall rules) that changed under one observation, without the
    observation's own label, which the picture's edge already shows."""
    label = f"#1 {new.get('kind')} {new.get('subject')}"
    lines = compare_test([dict(old)], [dict(new)]).informing
    return [line.removeprefix(f"{label}: ").strip() for line in lines if line != f"{label}:"]


def _outcome(probe: Mapping[str, Any]) -> str:
    return "answered" if probe["answered"] else "no answer"


def changed_probes(
    before: Sequence[Observation], after: Sequence[Observation]
) -> list[dict[str, Any]]:
    """The probes of ``after`` marked against ``before`` (``change`` is ``""`` for a probe
    that saw the same; ``was`` says what it saw before or what changed under it), then those
    only ``before`` made.

    Example::

        changed_probes(old.tests[node], new.tests[node])
        # [{'source': 'h1', 'target': 'h2', 'answered': False, 'change': 'flipped',
        #   'was': 'answered before', ...}]
    """
    earlier: dict[tuple[str, str, str, str], list[Mapping[str, Any]]] = {}
    observed: dict[tuple[Any, Any], Observation] = {}
    for recorded in before:
        observed.setdefault((recorded.get("kind"), recorded.get("subject")), recorded)
        for probe in recorded.get("probes", []):
            earlier.setdefault(same_probe(probe), []).append(probe)
    marked: list[dict[str, Any]] = []
    for new in after:
        old = observed.get((new.get("kind"), new.get("subject")))
        underneath = [] if old is None else _underneath(old, new)
        for probe in new.get("probes", []):
            made = earlier.get(same_probe(probe), [])
            was = made.pop(0) if made else None
            if was is None:
                marked.append(_marked(probe, "new", "not made before"))
            elif was["answered"] != probe["answered"]:
                marked.append(_marked(probe, "flipped", f"{_outcome(was)} before"))
            elif underneath:
                marked.append(_marked(probe, "underneath", "\n".join(underneath[:3])))
            else:
                marked.append(_marked(probe, ""))
    gone = [p for made in earlier.values() for p in made]
    return marked + [_marked(p, "gone", "made before, not now") for p in gone]
