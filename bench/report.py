"""Raw timings, the tables printed from them, the issue's targets, and the JSON file."""

from __future__ import annotations

import itertools
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PLUGIN = "plugin"
WARM = "plugin-warm"
"""The plugin with a warm pool of 4 (``DOCKERNET_WARM=4``; Docker >= 28, else off)."""
REPORT = "plugin-report"
"""The plugin writing ``--dockernet-report`` (suite1 only): what the report costs a suite."""


@dataclass
class Results:
    """Everything one benchmark run measured, as raw samples (seconds)."""

    machine: dict[str, Any]
    settings: dict[str, Any]
    titles: dict[str, str] = field(default_factory=dict)
    samples: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    """scenario -> implementation -> phase -> one value per run."""
    notes: dict[str, list[str]] = field(default_factory=dict)
    memory: dict[str, Any] = field(default_factory=dict)

    def add(self, scenario: str, impl: str, values: dict[str, float]) -> None:
        phases = self.samples.setdefault(scenario, {}).setdefault(impl, {})
        for phase, seconds in values.items():
            phases.setdefault(phase, []).append(seconds)

    def note(self, scenario: str, text: str) -> None:
        if text not in self.notes.setdefault(scenario, []):
            self.notes[scenario].append(text)

    def median(self, scenario: str, impl: str, phase: str) -> float | None:
        values = self.samples.get(scenario, {}).get(impl, {}).get(phase)
        return statistics.median(values) if values else None

    def write_json(self, path: Path) -> None:
        data = {
            "machine": self.machine,
            "settings": self.settings,
            "titles": self.titles,
            "samples": self.samples,
            "notes": self.notes,
            "memory": self.memory,
        }
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def header(machine: dict[str, Any], settings: dict[str, Any]) -> str:
    load = ", ".join(f"{x:.2f}" for x in machine["loadavg"])
    lines = [
        "pytest-dockernet benchmark",
        f"machine: {machine['nproc']} cores ({machine['cpu']}), Docker server "
        f"{machine['docker_server']} (API {machine['docker_api']}), kernel "
        f"{machine['kernel']}, Python {machine['python']}, load average {load}",
        "settings: " + ", ".join(f"{k}={v}" for k, v in settings.items()),
    ]
    if machine["loadavg"][0] > machine["nproc"]:
        lines.append(
            f"warning: load average {machine['loadavg'][0]:.2f} on {machine['nproc']} cores: "
            "other work is running, so the timings will be inflated and noisy"
        )
    return "\n".join(lines)


# Tables show the main phase first, then the rest as measured.
PHASE_ORDER = (
    "total",
    "per-test",
    "setup",
    "probing",
    "teardown",
    "session",
    "empty session",
    "pytest setup",
    "pytest call",
    "pytest teardown",
)


def _phases(per_impl: dict[str, dict[str, list[float]]]) -> list[str]:
    seen: list[str] = []
    for phases in per_impl.values():
        seen += [p for p in phases if p not in seen]
    return sorted(seen, key=lambda p: (PHASE_ORDER.index(p) if p in PHASE_ORDER else 99, p))


def _ratio(value: float) -> str:
    return f"{value:.2f}" if value >= 0.1 else f"{value:.4f}"


def table(results: Results, scenario: str) -> str:
    """min / median / max per implementation and phase, and plugin median / baseline median."""
    per_impl = results.samples[scenario]
    impls = sorted(per_impl, key=lambda i: (i == PLUGIN, i))
    phases = _phases(per_impl)
    wide = max([16, *(len(phase) for phase in phases)])
    lines = [
        f"== {scenario}: {results.titles.get(scenario, '')} (seconds)",
        f"{'phase':<{wide}} {'impl':<11} {'runs':>4} {'min':>8} {'median':>8} {'max':>8}"
        f" {'plugin/impl':>12}",
    ]
    for phase in phases:
        plugin = results.median(scenario, PLUGIN, phase)
        label = phase
        for impl in impls:
            values = per_impl[impl].get(phase)
            if not values:
                continue
            med = statistics.median(values)
            ratio = "" if impl == PLUGIN or plugin is None or med <= 0 else _ratio(plugin / med)
            lines.append(
                f"{label:<{wide}} {impl:<11} {len(values):>4} {min(values):>8.3f} {med:>8.3f}"
                f" {max(values):>8.3f} {ratio:>12}"
            )
            label = ""
    for text in results.notes.get(scenario, []):
        lines.append(f"  note: {text}")
    return "\n".join(lines)


def _slope(values: Sequence[float]) -> float:
    """Least-squares slope of ``values`` against their index."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, statistics.fmean(values)
    num = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    den = sum((x - mean_x) ** 2 for x in range(n))
    return num / den


def memory_lines(memory: dict[str, Any]) -> list[str]:
    lines = []
    matrices = sorted((int(k[len("matrix") :]), k) for k in memory if k.startswith("matrix"))
    for _, key in matrices:
        runs = memory[key]
        if runs:
            after = [r["vmrss_kb_after"] for r in runs]
            lines.append(
                f"{key} (fresh process, plugin only): VmRSS {runs[0]['vmrss_kb_before'] / 1024:.1f}"
                f" MiB after imports -> {max(after) / 1024:.1f} MiB after the matrix; "
                f"ru_maxrss {max(r['maxrss_kb'] for r in runs) / 1024:.1f} MiB"
            )
    session = memory.get("session")
    if session:
        n = session["tests"]
        skip = 10 if n > 20 else 0  # the first tests warm up caches, pools and malloc arenas
        tail = f"tests {skip + 1}-{n}"

        def slopes(values: Sequence[float]) -> str:
            return f"{_slope(values):+.1f}/test over all, {_slope(values[skip:]):+.1f} over {tail}"

        rss, objects = session["vmrss_kb"], session["objects"]
        lines += [
            f"pytest session of {n} scenario-1 tests ({session['seconds']:.1f} s), read after "
            "each test's teardown and a gc.collect():",
            f"  VmRSS after test 1 {rss[0] / 1024:.1f} MiB, after test {n} {rss[-1] / 1024:.1f}"
            f" MiB (ru_maxrss {session['maxrss_kb'] / 1024:.1f} MiB); KiB {slopes(rss)}",
            f"  objects tracked by gc: {objects[0]} -> {objects[-1]}; {slopes(objects)}",
        ]
        empty, empty_objects = session.get("empty_vmrss_kb"), session.get("empty_objects")
        if empty and empty_objects:
            lines.append(
                f"  control, {len(empty)} empty tests: VmRSS {empty[0] / 1024:.1f} -> "
                f"{empty[-1] / 1024:.1f} MiB, KiB {slopes(empty)}; objects {slopes(empty_objects)}"
            )
        malloc, malloc_empty = session.get("malloc_vmrss_kb"), session.get("malloc_empty_vmrss_kb")
        if malloc and malloc_empty:
            lines.append(
                f"  with PYTHONMALLOC=malloc (no arenas pinned): VmRSS KiB {slopes(malloc)}; "
                f"control {slopes(malloc_empty)}"
            )
    return lines


def targets(results: Results) -> list[str]:
    """The issue's targets, each with the figure it is judged on."""
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT MET"

    count = int(results.settings.get("suite_tests", 0))
    for suite, goal in (("suite1", 0.45), ("suite2", 0.5)):
        # The natural suite whole (pytest's start-up and the run's final wait included)
        # against the CLI script run as many times.
        session = results.median(suite, PLUGIN, "session")
        cli = results.median(suite, "cli", "per-test")
        if session is not None and cli and count:
            ratio = session / (cli * count)
            wait = results.median(suite, PLUGIN, "final wait")
            lines.append(
                f"{suite}: {count} tests written naturally, session {session:.2f} s (of which "
                f"the run's final wait {wait or 0:.2f} s) / CLI {count} runs {cli * count:.2f} s"
                f" = {ratio:.3f} (target <= {goal}): {verdict(ratio <= goal)}"
            )
            reported = results.median(suite, REPORT, "session")
            if reported is not None:
                extra = reported / session - 1
                lines.append(
                    f"{suite}: the same writing --dockernet-report, session {reported:.2f} s = "
                    f"{extra:+.1%} on the plain session (target < +5%): {verdict(extra < 0.05)}"
                )
            warm = results.median(suite, WARM, "session")
            if warm is not None:
                lines.append(
                    f"{suite}: the same with a warm pool of 4 (Docker >= 28 only), session "
                    f"{warm:.2f} s = {warm / (cli * count):.3f} of the CLI (not a target)"
                )
    matrices = sorted(
        (int(s[len("matrix") :]), s) for s in results.samples if s.startswith("matrix")
    )
    if matrices:
        _, biggest = matrices[-1]
        total = results.median(biggest, PLUGIN, "total")
        cli = results.median(biggest, "cli", "total")
        probing = results.median(biggest, PLUGIN, "probing")
        if total is not None and cli:
            lines.append(
                f"{biggest}: loops written naturally, plugin total {total:.2f} s / CLI step by "
                f"step {cli:.2f} s = {total / cli:.3f} (target <= 0.12): "
                f"{verdict(total / cli <= 0.12)}"
            )
        batched = results.median(biggest, "cli-batch", "total")
        if total is not None and batched:
            lines.append(
                f"{biggest}: plugin total {total:.2f} s / batched CLI {batched:.2f} s = "
                f"{total / batched:.3f} (target <= 0.6): {verdict(total / batched <= 0.6)}"
            )
        if total and probing is not None:
            lines.append(
                f"{biggest}: plugin probing {probing:.3f} s = {probing / total:.1%} of its total "
                f"(target <= 5%): {verdict(probing / total <= 0.05)}"
            )
        dual = results.median(f"dual{biggest[len('matrix') :]}", PLUGIN, "total")
        if total and dual is not None:
            lines.append(
                f"dual{biggest[len('matrix') :]}: dual-stack, both families probed, plugin "
                f"total {dual:.2f} s / the IPv4 {biggest} {total:.2f} s = {dual / total:.2f} "
                f"(target <= 2): {verdict(dual / total <= 2)}"
            )
        setups = [
            (size, setup)
            for size, name in matrices
            if (setup := results.median(name, PLUGIN, "setup")) is not None
        ]
        if len(setups) > 2:
            # Linear (affine) growth: each added container costs the same, whatever N.
            steps = [
                (n1, n2, (s2 - s1) / (n2 - n1)) for (n1, s1), (n2, s2) in itertools.pairwise(setups)
            ]
            costs = [c for _, _, c in steps]
            spread = max(costs) / min(costs) if min(costs) > 0 else float("inf")
            text = ", ".join(f"N={a}->{b}: {c * 1000:.0f} ms" for a, b, c in steps)
            lines.append(
                f"plugin set-up, cost of each added container: {text} (linear in N if these "
                f"agree within 1.5x: {spread:.2f}x): {verdict(spread <= 1.5)}"
            )
    session = results.memory.get("session")
    if session and session["tests"] > 20:
        growth = _slope(session["vmrss_kb"][10:])
        line = (
            f"memory: VmRSS over {session['tests']} tests {growth:+.1f} KiB/test after the first "
            f"10 (target < 5): {verdict(growth < 5)}"
        )
        malloc, malloc_empty = session.get("malloc_vmrss_kb"), session.get("malloc_empty_vmrss_kb")
        if malloc and malloc_empty:
            plugin, empty = _slope(malloc[10:]), _slope(malloc_empty[10:])
            line += (
                f"; with PYTHONMALLOC=malloc {plugin:+.1f} against the empty tests' "
                f"{empty:+.1f}: the plugin keeps {plugin - empty:+.1f} KiB/test beyond pytest's own"
            )
        lines.append(line)
    return lines
