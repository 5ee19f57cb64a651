"""``python -m bench``: the plugin against the docker CLI and docker-py, on this machine.

Scenarios (``--only`` takes these names, or matrix/suite/scenario/ports for a group):
scenario1, scenario2 (3 x K runs each: they are cheap), suite1, suite2, matrix<N> for each
of --sizes (plugin, CLI step by step and batched; docker-py too with --full), ports<N> at
the biggest of --sizes (every pair opens TCP 5432: plugin and CLI), dual<N> at the biggest
(the plugin's matrix on a dual-stack bridge, over both families), and memory (a session of
50 tests, with --memory, --full or --only memory). The suites also run the plugin with a
warm pool of 4 (plugin-warm; Docker >= 28), and suite1 writing --dockernet-report
(plugin-report). On an idle 2-core machine the default run
takes about five minutes, --quick under a minute.
Implementations take turns within each repetition, in a rotating order, so that a drift in
the machine's load spreads over all of them. Progress goes to stderr; the tables to stdout.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import docker

from pytest_dockernet.engine import images
from pytest_dockernet.engine.client import version_of
from pytest_dockernet.engine.teardown import interrupt_on_sigterm
from pytest_dockernet.observe.firewall.bridged import bridged_frames_filtered

from . import report, suites
from .common import (
    BenchError,
    BenchSession,
    cleanup,
    foreign_containers,
    machine,
)
from .report import PLUGIN, REPORT, WARM, Results
from .scenarios import Context, Scenario, build, plugin_matrix_child

DEFAULT_REPEAT = 1
IMPLS = ("cli", "cli-batch", "docker-py", PLUGIN, WARM, REPORT)


def _csv_ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected numbers like 5,10,20, got {text!r}") from None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="K",
        help=f"repetitions (default {DEFAULT_REPEAT}): each implementation runs K times per "
        "scenario, scenario1/2 3K times; the CLI suite rows hold K x the suite's size runs",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only these scenarios (repeatable or comma-separated)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run of every code path: 1 run each, suites of 1 test, a 3-container "
        "matrix and port matrix, a 2-test memory session",
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also run the memory session (50 scenario-1 tests: about a minute more)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="everything: --memory, and docker-py in the matrices too",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="write every raw timing here")
    parser.add_argument(
        "--sizes",
        type=_csv_ints,
        default=None,
        help="matrix sizes (default 5,10,20); the port matrix takes the biggest",
    )
    parser.add_argument(
        "--suite-tests", type=int, default=None, help="tests per suite session (default 10)"
    )
    parser.add_argument(
        "--memory-tests", type=int, default=None, help="tests in the memory session (default 50)"
    )
    parser.add_argument(
        "--impl",
        type=lambda s: s.split(","),
        default=list(IMPLS),
        help=f"implementations to run, comma-separated (default {','.join(IMPLS)})",
    )
    args = parser.parse_args(argv)
    quick = args.quick
    if args.repeat is None:
        args.repeat = 1 if quick else DEFAULT_REPEAT
    if args.sizes is None:
        args.sizes = [3] if quick else [5, 10, 20]
    if args.suite_tests is None:
        args.suite_tests = 1 if quick else 10
    if args.memory_tests is None:
        args.memory_tests = 2 if quick else 50
    if args.repeat < 1 or args.suite_tests < 1 or args.memory_tests < 2:
        parser.error("--repeat and --suite-tests must be >= 1, --memory-tests >= 2")
    if any(not 2 <= n <= 200 for n in args.sizes):
        parser.error("matrix sizes must be 2..200")
    unknown = set(args.impl) - set(IMPLS)
    if unknown:
        parser.error(f"unknown --impl {', '.join(sorted(unknown))}: pick from {', '.join(IMPLS)}")
    return args


def selected(names: list[str], scenarios: list[Scenario]) -> tuple[list[Scenario], bool]:
    """The scenarios ``--only`` asks for (all when empty), and whether it names memory."""
    wanted = {w for name in names for w in name.split(",") if w}
    if not wanted:
        return [s for s in scenarios if s.impls], False
    groups = {"matrix", "suite", "scenario", "ports", "dual"} & wanted
    known = {s.name for s in scenarios} | {"matrix", "suite", "scenario", "ports", "dual", "memory"}
    unknown = wanted - known
    if unknown:
        raise SystemExit(
            f"unknown scenario {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}"
        )
    chosen = [s for s in scenarios if s.name in wanted or any(s.name.startswith(g) for g in groups)]
    return [s for s in chosen if s.impls], "memory" in wanted


ROUTER_SCENARIOS = ("scenario2", "suite2")
"""The scenarios whose ping crosses a router container between two bridges."""


def router_forward_dropped(info: dict[str, object], filtered: bool) -> str:
    """Why a router container's forward between two bridges cannot arrive on this host (Docker
    ``info``, and whether bridged frames pass iptables), or "" where it does.

    Docker >= 28 drops a packet for a container arriving on any interface but the container's
    own bridge (raw ``PREROUTING -d IP ! -i BRIDGE -j DROP``); with bridge-nf-call-iptables=1
    the router's forward is bridged on the first bridge and meets that rule there, so the CLI
    script's ping fails as the plugin's verdict says it must (tests/engine/test_faithful.py).

    Example::

        router_forward_dropped(client.info(), bridged_frames_filtered())  # "" on 20.10
    """
    if version_of(info) < (28, 0) or not filtered:
        return ""
    return (
        f"Docker {info.get('ServerVersion')} with net.bridge.bridge-nf-call-iptables=1 drops a "
        "router container's forward to another bridge (raw PREROUTING -d IP ! -i BRIDGE -j "
        "DROP), so neither the CLI script nor the plugin's test of scenario 2 can pass here: "
        "measure them with it at 0 (a typical Docker 28 host), e.g. "
        "`sysctl -w net.bridge.bridge-nf-call-iptables=0`"
    )


def run_scenario(ctx: Context, scenario: Scenario, repeat: int) -> None:
    impls = list(scenario.impls)
    repeat *= scenario.weight
    busy = foreign_containers(ctx.client, ctx.session)
    start = time.perf_counter()
    for rep in range(repeat):
        order = impls[rep % len(impls) :] + impls[: rep % len(impls)]
        for impl in order:
            t0 = time.perf_counter()
            for sample in scenario.impls[impl]():
                ctx.results.add(scenario.name, impl, sample)
            print(
                f"  {scenario.name} {impl} run {rep + 1}/{repeat}: "
                f"{time.perf_counter() - t0:.2f} s",
                file=sys.stderr,
                flush=True,
            )
    busy = max(busy, foreign_containers(ctx.client, ctx.session))
    if busy:
        ctx.results.note(
            scenario.name,
            f"{busy} other running containers on the engine meanwhile: timings may be skewed",
        )
    left = cleanup(ctx.client, ctx.session)
    if left:
        ctx.results.note(scenario.name, f"left behind, removed by the benchmark: {left}")
    print(f"{scenario.name} done in {time.perf_counter() - start:.1f} s", file=sys.stderr)


def run_memory(ctx: Context, size: int, tests: int) -> None:
    """Resident memory: after the biggest plugin matrix, and over a session of ``tests`` tests."""
    if f"matrix{size}" not in ctx.results.memory:
        plugin_matrix_child(ctx, size)
    print(f"  memory: a session of {tests} scenario-1 tests", file=sys.stderr, flush=True)
    ctx.results.memory["session"] = suites.memory_session(ctx.suite_dir, tests, ctx.session)
    left = cleanup(ctx.client, ctx.session)
    if left:
        ctx.results.note("memory", f"left behind, removed by the benchmark: {left}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    start = time.perf_counter()
    interrupt_on_sigterm()
    client = docker.from_env()
    images.ensure_default_image(client)
    session = BenchSession.new()
    settings = {
        "repeat": args.repeat,
        "sizes": ",".join(map(str, args.sizes)),
        "suite_tests": args.suite_tests,
        "memory_tests": args.memory_tests,
        "full": args.full,
        "session": session.id,
    }
    results = Results(machine(client), settings)
    print(report.header(results.machine, settings), flush=True)
    ctx = Context(client, session, results, args.suite_tests, 1 if args.quick else 3)
    every = args.full or args.quick  # --quick is a smoke test of every code path
    scenarios, want_memory = selected(
        args.only, build(ctx, args.sizes, set(args.impl), matrix_docker_py=every)
    )
    want_memory = want_memory or args.memory or every
    dropped = router_forward_dropped(client.info(), bridged_frames_filtered())
    if dropped:
        left_out = [s.name for s in scenarios if s.name in ROUTER_SCENARIOS]
        scenarios = [s for s in scenarios if s.name not in ROUTER_SCENARIOS]
        if left_out:
            print(f"left out: {', '.join(left_out)}: {dropped}", flush=True)
    for s in scenarios:
        results.titles[s.name] = s.title
    status = 0
    try:
        for scenario in scenarios:
            run_scenario(ctx, scenario, args.repeat)
            print("\n" + report.table(results, scenario.name), flush=True)
        if want_memory and PLUGIN in args.impl:
            run_memory(ctx, max(args.sizes), args.memory_tests)
    except KeyboardInterrupt:
        print("\ninterrupted: removing what the benchmark created", file=sys.stderr)
        status = 130
    except (BenchError, AssertionError) as exc:
        print(f"\nbenchmark failed: {exc}", file=sys.stderr)
        status = 1
    finally:
        left = cleanup(client, session)
        if left:
            print(f"removed at exit: {', '.join(left)}", file=sys.stderr)
        ctx.suite_dir.close()
        if args.json:
            results.write_json(args.json)
    if results.memory:
        print("\n== memory (resident set of the plugin's process)")
        print("\n".join(report.memory_lines(results.memory)))
        for text in results.notes.get("memory", []):
            print(f"  note: {text}")
    lines = [] if args.quick else report.targets(results)  # a smoke run judges nothing
    if lines:
        print("\n== targets of the issue (medians of this run)")
        print("\n".join(lines))
    print(
        f"\nwall time of the benchmark: {time.perf_counter() - start:.0f} s; "
        f"load average now {', '.join(f'{x:.2f}' for x in machine(client)['loadavg'])}"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
