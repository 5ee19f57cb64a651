"""Reachability between every pair of containers, probed concurrently, shown as one matrix.

A full N x N check is N*(N-1) pings; each is an in-process ICMP echo (well under a
millisecond when answered), so they run side by side in threads and the matrix costs about
one timeout when some pairs do not answer, not one per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..model import Container
from ..model.arguments import check_family
from ..observe.ping import PingResult
from ..observe.ports import PortResult, check_port, check_proto
from .ping import probe
from .ports import probe_port

MAX_PROBES_AT_ONCE = 32

Pair = tuple[Container, Container]


@dataclass(frozen=True)
class Reachability:
    """The observed answer of every ordered pair (src, dst) of ``containers``: a ping, or a
    port's connection attempt when the matrix was asked for a port.

    ``assert_reachability`` returns it; ``pytest_dockernet.probing.matrix.reachability()``
    gives the same matrix without asserting.

    Example:
        ```python
        seen = assert_reachability({(web, api): True, (web, db): False})
        assert seen.reachable(web, api)
        print(seen.table())  # sources down, destinations across: ok / --
        ```
    """

    containers: tuple[Container, ...]
    """The containers of the matrix, in the order given."""
    results: Mapping[Pair, PingResult | PortResult | None]
    """The probe of each pair that was asked for (never None: destinations are Containers)."""

    def reachable(self, src: Container, dst: Container) -> bool:
        """Every ping of the pair was answered, or its port opened (a KeyError for a pair that
        was not probed).

        Example:
            ```python
            assert not seen.reachable(web, db)
            ```
        """
        result = self.results[(src, dst)]
        if isinstance(result, PortResult):
            return result.open
        return result is not None and result.received == result.sent

    def pairs(self, reachable: bool) -> list[Pair]:
        """The probed pairs that were (``True``) or were not (``False``) reachable.

        Example:
            ```python
            blocked = [(src.alias, dst.alias) for src, dst in seen.pairs(False)]
            ```
        """
        return [pair for pair in self.results if self.reachable(*pair) is reachable]

    def table(self, expected: Mapping[Pair, bool] | None = None) -> str:
        """A grid, sources down and destinations across: ``ok`` answered, ``--`` did not.

        Cells that differ from ``expected`` are marked with ``!``.
        """
        names = [c.alias for c in self.containers]
        width = max(len(n) for n in names) + 1
        lines = [" " * width + " ".join(f"{n:>{max(len(n), 3)}}" for n in names)]
        for src in self.containers:
            cells = []
            for dst in self.containers:
                cell_width = max(len(dst.alias), 3)
                if (src, dst) not in self.results:
                    cells.append(f"{'.' if src is dst else '':>{cell_width}}")
                    continue
                seen = self.reachable(src, dst)
                text = "ok" if seen else "--"
                if expected is not None and (src, dst) in expected and expected[(src, dst)] != seen:
                    text += "!"
                cells.append(f"{text:>{cell_width}}")
            lines.append(f"{src.alias:<{width}}" + " ".join(cells))
        return "\n".join(lines)


def reachability(
    containers: Iterable[Container],
    *,
    count: int = 1,
    timeout: float = 1.0,
    pairs: Iterable[Pair] | None = None,
    port: int | None = None,
    proto: str = "tcp",
    family: int = 4,
) -> Reachability:
    """Ping every ordered pair of distinct ``containers`` (or only ``pairs``) concurrently;
    with ``port``, open a connection to it (TCP) or send it a datagram (UDP) instead; over
    IPv6 with ``family=6``."""
    check_family(family)
    if port is not None:
        check_port(port)
        check_proto(proto)
    members = tuple(containers)
    for c in members:
        if not isinstance(c, Container):
            raise TypeError(f"reachability() takes Containers, got {c!r}")
    pairs = (
        [(s, d) for s in members for d in members if s is not d] if pairs is None else list(pairs)
    )
    for src, dst in pairs:
        if src is dst:
            raise ValueError(f"pair ({src.alias}, {dst.alias}) probes a container from itself")
    if len(members) < 2:
        raise ValueError(f"reachability() needs two or more containers, got {len(members)}")
    workers = min(MAX_PROBES_AT_ONCE, len(pairs))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dockernet-probe") as pool:
        found = list(pool.map(lambda pair: _one(pair, count, timeout, port, proto, family), pairs))
    return Reachability(members, dict(zip(pairs, found, strict=True)))


def _one(
    pair: Pair, count: int, timeout: float, port: int | None, proto: str, family: int
) -> PingResult | PortResult | None:
    if port is None:
        return probe(pair[0], pair[1], count, timeout, family)[0]
    return probe_port(pair[0], pair[1], port, proto=proto, timeout=timeout, family=family)[0]


def mismatch(observed: Reachability, expected: Mapping[Pair, bool]) -> str | None:
    """What ``assert_reachability`` says when ``observed`` differs from ``expected``; None when
    every expected pair answered as expected.

    The message counts the pairs that differ, shows the whole matrix with them marked, and
    lists each with its ping. It reads only the values given: nothing is probed here.
    """
    for s, d in expected:
        if (s, d) not in observed.results:
            raise ValueError(f"pair ({s.alias}, {d.alias}) is expected but was not probed")
    wrong = [pair for pair, want in expected.items() if observed.reachable(*pair) != want]
    if not wrong:
        return None
    details = "\n".join(
        f"  {s.alias} -> {d.alias}: expected {'reachable' if expected[(s, d)] else 'unreachable'}"
        f"; {observed.results[(s, d)]}".replace("\n", "\n      ")
        for s, d in wrong
    )
    return (
        f"{len(wrong)} of {len(expected)} pairs differ from what was expected "
        f"(ok = answered, -- = not, ! = not as expected):\n"
        f"{observed.table(expected)}\n{details}"
    )
