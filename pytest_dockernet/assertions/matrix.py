"""``assert_reachability``: every pair of containers answers as expected, shown as one matrix.

Example::

    assert_reachability([h1, h2, router])                  # a full mesh
    assert_reachability({(h1, h2): True, (h2, h1): False})  # only these pairs
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..model import Container
from ..probing.matrix import Pair, Reachability, mismatch, reachability
from ..record import observations as recording


def assert_reachability(
    expected: Sequence[Container] | Mapping[Pair, bool],
    *,
    count: int = 1,
    timeout: float = 1.0,
    port: int | None = None,
    proto: str = "tcp",
    family: int = 4,
) -> Reachability:
    """Every pair answers as expected; on failure, the whole observed matrix is shown.

    ``expected`` is either containers that must all reach each other (a full mesh), or a
    mapping ``{(src, dst): True/False}``; then only those pairs are probed and compared.
    With ``port``, a pair is reachable when that port opens (TCP) or answers (UDP), as for
    ``assert_port_open``. ``family=6`` probes every pair over IPv6 (their IPv6 addresses on
    networks made with ``ipv6=True``). Returns the observed Reachability, for further checks.

    Example:
        ```python
        hosts = [dockernet.container(f"h{i}", [net]) for i in range(5)]
        assert_reachability(hosts)  # all 20 ordered pairs answer
        assert_reachability({(web, db): False, (api, db): True})  # only these pairs
        assert_reachability([api, db], port=5432)  # TCP 5432 opens both ways
        assert_reachability(hosts, family=6)  # the same mesh over IPv6
        ```
    """
    __tracebackhide__ = True
    if isinstance(expected, Mapping):
        wanted = dict(expected)
        members = tuple(dict.fromkeys(c for pair in wanted for c in pair))
    elif isinstance(expected, (list, tuple)):
        members = tuple(expected)
        wanted = {(s, d): True for s in members for d in members if s is not d}
    else:
        raise TypeError(
            "assert_reachability() takes a list of Containers or a mapping "
            f"{{(src, dst): bool}}, got {type(expected).__name__}"
        )
    observed = reachability(
        members, count=count, timeout=timeout, pairs=wanted, port=port, proto=proto, family=family
    )
    message = mismatch(observed, wanted)
    if members and recording.active():
        names = ", ".join(c.alias for c in members) + (f" port {port}/{proto}" if port else "")
        names += " over IPv6" if family == 6 else ""
        how = (f"{port}/{proto}" if port else "ping") + (" over IPv6" if family == 6 else "")
        edges = [
            recording.Probe(
                recording.end(s, s.alias),
                recording.end(d, d.alias),
                "assert_reachability",
                answered=observed.reachable(s, d),
                expected=want,
                detail=how,
            )
            for (s, d), want in wanted.items()
        ]
        pairs = zip(wanted, edges, strict=True)
        answers = {f"{s.alias} -> {d.alias}": e.answered for (s, d), e in pairs}
        recording.observe(
            "assert_reachability", members[0].registry, names, message is None, answers, None, edges
        )
    if message is not None:
        raise AssertionError(message)
    return observed
