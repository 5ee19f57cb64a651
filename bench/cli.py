"""The docker CLI baselines: the ``cli_*.sh`` scripts beside this file, timed from outside."""

from __future__ import annotations

from .common import MATRIX_MAX, BenchError, BenchSession, run_script

PHASES = {"setup", "probing", "teardown"}


def _phased(script: str, args: list[str], session: BenchSession) -> dict[str, float]:
    """The phases the script prints ("phase NAME SECONDS"); total is its wall time."""
    done = run_script(script, args, session)
    for line in done.stderr.splitlines():
        if line.startswith("retried: "):
            print(f"  {script} {line}", flush=True)
    phases: dict[str, float] = {}
    for line in done.stdout.splitlines():
        word, _, rest = line.partition(" ")
        if word == "phase":
            name, value = rest.split()
            phases[name] = float(value)
    if set(phases) != PHASES:
        raise BenchError(f"{script} printed no complete phase lines:\n{done.stdout}")
    return {"total": done.seconds, **phases}


def scenario1(session: BenchSession) -> dict[str, float]:
    return _phased("cli_scenario1.sh", [], session)


def scenario2(session: BenchSession) -> dict[str, float]:
    return _phased("cli_scenario2.sh", [], session)


def matrix(session: BenchSession, n: int) -> dict[str, float]:
    if not 2 <= n <= MATRIX_MAX:
        raise ValueError(f"matrix size must be 2..{MATRIX_MAX}, got {n}")
    return _phased("cli_matrix.sh", [str(n)], session)


def matrix_batched(session: BenchSession, n: int) -> dict[str, float]:
    if not 2 <= n <= MATRIX_MAX:
        raise ValueError(f"matrix size must be 2..{MATRIX_MAX}, got {n}")
    return _phased("cli_matrix_batched.sh", [str(n)], session)


def ports(session: BenchSession, n: int) -> dict[str, float]:
    if not 2 <= n <= MATRIX_MAX:
        raise ValueError(f"port matrix size must be 2..{MATRIX_MAX}, got {n}")
    return _phased("cli_ports.sh", [str(n)], session)
