"""The scenarios, each with its implementations; one call of an implementation is one run."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import docker

from . import baselines, cli, plugin_runs, suites
from .common import BENCH_DIR, PORT, BenchError, BenchSession, run_process
from .report import PLUGIN, REPORT, WARM, Results

Run = Callable[[], list[dict[str, float]]]
"""One repetition of one implementation: one sample, or several (the CLI suite's runs)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    impls: dict[str, Run]
    weight: int = 1
    """Runs per repetition: the cheap single scenarios get more, for a spread worth reading."""


@dataclass
class Context:
    """What the implementations need: the engine, the run's label, options, the results."""

    client: docker.DockerClient
    session: BenchSession
    results: Results
    suite_tests: int = 10
    light_weight: int = 3
    """Runs per repetition of scenario1 and scenario2 (cheap: a few seconds each)."""
    suite_dir: suites.SuiteDir = field(default_factory=suites.SuiteDir)


def plugin_matrix_child(ctx: Context, n: int, ipv6: bool = False) -> dict[str, Any]:
    """One plugin matrix in a fresh process (``bench.child``): timings and resident memory;
    dual-stack, probed over both families, with ``ipv6``."""
    cmd = [sys.executable, "-m", "bench.child", str(n), ctx.session.id]
    cmd.append(ctx.session.unique("c"))
    name = f"dual{n}" if ipv6 else f"matrix{n}"
    if ipv6:
        cmd.append("--ipv6")
    done = run_process(cmd, ctx.session, cwd=BENCH_DIR.parent)
    try:
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as exc:
        raise BenchError(f"bench.child printed no JSON result:\n{done.stdout}") from exc
    ctx.results.memory.setdefault(name, []).append(
        {k: v for k, v in result.items() if k != "timings"}
    )
    ctx.results.note(name, f"plugin probing: {result['probing']}")
    return result


def build(
    ctx: Context, sizes: list[int], impls: set[str], matrix_docker_py: bool = False
) -> list[Scenario]:
    """Every scenario, with only the implementations in ``impls``.

    The matrices compare the plugin with the CLI script; docker-py only if asked (it adds
    as much time again as the CLI's matrices and tells little more). The port matrix, at the
    biggest of ``sizes``, compares the plugin with its CLI script only.
    """
    client, session = ctx.client, ctx.session
    count = ctx.suite_tests

    def cli_suite(run: Callable[[BenchSession], dict[str, float]]) -> Run:
        return lambda: [{"per-test": run(session)["total"]} for _ in range(count)]

    def plugin_suite(kind: str, warm: bool = False, report: bool = False) -> Run:
        return lambda: suites.plugin_suite(ctx.suite_dir, kind, count, session, warm, report)

    def matrix(n: int) -> dict[str, Run]:
        runs: dict[str, Run] = {
            "cli": lambda: [cli.matrix(session, n)],
            "cli-batch": lambda: [cli.matrix_batched(session, n)],
        }
        if matrix_docker_py:
            runs["docker-py"] = lambda: [baselines.matrix(client, session, n)]
        runs[PLUGIN] = lambda: [plugin_matrix_child(ctx, n)["timings"]]
        return runs

    found = [
        Scenario(
            "scenario1",
            "bridge + 2 containers + 1 ping by name + teardown",
            {
                "cli": lambda: [cli.scenario1(session)],
                "docker-py": lambda: [baselines.scenario1(client, session)],
                PLUGIN: lambda: [plugin_runs.scenario1(client, session)],
            },
            ctx.light_weight,
        ),
        Scenario(
            "scenario2",
            "2 bridges + router + 2 hosts + routes + 1 ping + teardown",
            {
                "cli": lambda: [cli.scenario2(session)],
                "docker-py": lambda: [baselines.scenario2(client, session)],
                PLUGIN: lambda: [plugin_runs.scenario2(client, session)],
            },
            ctx.light_weight,
        ),
        Scenario(
            "suite1",
            f"per test, {count} scenario-1 tests in one pytest session "
            f"(CLI: per run of {count} script runs)",
            {
                "cli": cli_suite(cli.scenario1),
                PLUGIN: plugin_suite("scenario1"),
                WARM: plugin_suite("scenario1", warm=True),
                REPORT: plugin_suite("scenario1", report=True),
            },
        ),
        Scenario(
            "suite2",
            f"per test, {count} scenario-2 tests in one pytest session "
            f"(CLI: per run of {count} script runs)",
            {
                "cli": cli_suite(cli.scenario2),
                PLUGIN: plugin_suite("scenario2"),
                WARM: plugin_suite("scenario2", warm=True),
            },
        ),
    ]
    found += [
        Scenario(
            f"matrix{n}",
            f"{n} containers on one bridge, all {n * (n - 1)} ordered pairs pinged",
            matrix(n),
        )
        for n in sizes
    ]
    biggest = max(sizes)
    found.append(
        Scenario(
            f"dual{biggest}",
            f"{biggest} containers on one dual-stack bridge, all {biggest * (biggest - 1)} "
            "ordered pairs pinged over IPv4, then over IPv6 (judged against the plugin's "
            f"matrix{biggest})",
            {PLUGIN: lambda: [plugin_matrix_child(ctx, biggest, ipv6=True)["timings"]]},
        )
    )
    found.append(
        Scenario(
            f"ports{biggest}",
            f"{biggest} containers on one bridge serving TCP {PORT} (plugin: dockernet.listen; "
            f"CLI: busybox nc), all {biggest * (biggest - 1)} ordered pairs connected",
            {
                "cli": lambda: [cli.ports(session, biggest)],
                PLUGIN: lambda: [plugin_runs.port_matrix(client, session, biggest)],
            },
        )
    )
    return [
        Scenario(s.name, s.title, {k: v for k, v in s.impls.items() if k in impls}, s.weight)
        for s in found
    ]
