"""Ping verdicts and packet paths, each naming what dropped a lost probe."""

from __future__ import annotations

from collections.abc import Iterable

from ..model import Container, Upstream
from ..model.arguments import Destination, need, probe_source
from ..observe.ping import PingResult
from ..probing.destinations import resolve
from ..probing.diagnosis import dropped_by, ipv6_rules, why_unanswered
from ..probing.ping import probe
from ..probing.trace import Hop, Trace, trace
from ..record import observations as recording
from ..retry import until_holds

# -- reachability ---------------------------------------------------------------------------


def assert_reachable(
    src: Container | Upstream,
    dst: Destination,
    *,
    count: int = 1,
    timeout: float = 1.0,
    reply_ttl: int | None = None,
    within: float | None = None,
    family: int = 4,
) -> None:
    """Every one of ``count`` echo requests from ``src`` to ``dst`` is answered in time.

    ``reply_ttl`` also checks the TTL the replies arrive with: 64 from the same bridge, one
    less for each router on the way back (the seed's ttl=63 through its router). ``within``
    tries again until it holds or that many seconds have passed. ``src`` may be an Upstream:
    a neighbour of the host, with the routes the test gave it. ``family=6`` probes over
    IPv6 (ICMPv6 echo to the destination's IPv6 address; ``reply_ttl`` is then the hop
    limit); an IPv6 address as ``dst`` does so by itself.

    Example:
        ```python
        assert_reachable(c1, "container2")  # by name, as c1's resolver finds it
        assert_reachable(h1, h2, count=3, reply_ttl=63)  # through one router: ttl 63
        assert_reachable(client, web, within=5)  # tries again for up to 5 s
        assert_reachable(h1, h2, family=6)  # over IPv6, on a network made with ipv6=True
        assert_reachable(internet, web.ip(lan))  # from an upstream given a route to lan
        ```
    """
    __tracebackhide__ = True
    source = probe_source(src)
    last: list[PingResult | None] = []

    def check() -> None:
        __tracebackhide__ = True
        result, label = probe(source, dst, count, timeout, family)
        last[:] = [result]
        ttl_ok = result is not None and (
            reply_ttl is None or all(r.ttl == reply_ttl for r in result.replies)
        )
        passed = result is not None and result.received == count and ttl_ok
        _observe_ping("assert_reachable", source, dst, label, result, passed)
        if result is None:
            raise AssertionError(f"{source} cannot reach {label}")
        if result.received < count:
            raise AssertionError(f"{source} cannot reach {label}:\n{result}")
        if not ttl_ok:
            raise AssertionError(
                f"{source} reaches {label}, but replies arrive with ttl "
                f"{sorted({r.ttl for r in result.replies})}, expected {reply_ttl}:\n{result}"
            )

    try:
        until_holds(check, within)
    except AssertionError as exc:
        result = last[-1] if last else None
        if result is None or result.received == count:
            raise
        why = why_unanswered(source, dst, result.destination, count, timeout)
        recording.explain(str(why))
        raise AssertionError(f"{exc}\n{why}") from None


def assert_unreachable(
    src: Container | Upstream,
    dst: Destination,
    *,
    count: int = 1,
    timeout: float = 1.0,
    within: float | None = None,
    family: int = 4,
) -> None:
    """No echo request from ``src`` to ``dst`` is answered within ``timeout`` seconds;
    ``within`` tries again until that holds (a route being removed, a rule being added).
    ``family=6`` probes over IPv6; a failure then says whether the engine writes IPv6 rules
    at all (the daemon's ``ip6tables``), which decides isolation over IPv6.

    Example:
        ```python
        a = dockernet.network("a")
        b = dockernet.network("b")
        h1 = dockernet.container("h1", [a])
        h2 = dockernet.container("h2", [b])
        assert_unreachable(h1, h2)  # Docker isolates bridge networks from each other
        ```
    """
    __tracebackhide__ = True
    source = probe_source(src)

    def check() -> None:
        __tracebackhide__ = True
        result, label = probe(source, dst, count, timeout, family)
        answered = result is not None and result.received > 0
        _observe_ping("assert_unreachable", source, dst, label, result, not answered)
        if result is not None and answered:
            why = ""
            if result.destination.version == 6:
                why = f"\n{ipv6_rules(source.registry, source.addresses6)}"
            raise AssertionError(f"{source} can reach {label}, expected it not to:\n{result}{why}")

    until_holds(check, within)


def _observe_ping(
    kind: str, src: Container, dst: Destination, label: str, result: PingResult | None, ok: bool
) -> None:
    """Record a ping verdict: replies and their ttl (never times), and the rules underneath."""
    if not recording.active():
        return
    answered = result is not None and result.received > 0
    if result is None:
        facts: dict[str, object] = {"resolved": False}
        rules: list[str] = []
        target_end = label
    else:
        facts = {
            "sent": result.sent,
            "received": result.received,
            "reply_ttls": [r.ttl for r in result.replies],
            "errors": list(result.errors),
        }
        target = resolve(src, dst)
        bridges = {n.bridge for n in src.networks}
        if target.holder is not None:
            bridges |= {n.bridge for n in target.holder.networks}
        rules = recording.path_rules(src.registry, bridges, str(result.destination))
        target_end = recording.end(target.holder, str(result.destination))
    shown = "ping" if result is None or result.destination.version == 4 else "ping over IPv6"
    edge = recording.Probe(
        recording.end(src, src.alias),
        target_end,
        kind,
        answered=answered,
        expected=(answered == ok),
        detail=shown if result is None or not result.errors else f"{shown}: {result.errors[0]}",
    )
    recording.observe(
        kind, src.registry, f"{src.alias} -> {label}", ok, facts, {"rules": rules}, [edge]
    )


# -- packet paths ---------------------------------------------------------------------------


def _passed(hops: tuple[Hop, ...]) -> list[Container]:
    """The containers a packet crossed, in order, each once per visit."""
    crossed: list[Container] = []
    for hop in hops:
        if hop.where != "host" and (not crossed or crossed[-1] is not hop.where):
            crossed.append(hop.where)
    return crossed


def _in_order(wanted: list[Container], crossed: list[Container]) -> bool:
    rest = iter(crossed)
    return all(any(c is w for c in rest) for w in wanted)


def assert_path(
    src: Container | Upstream,
    dst: Destination,
    *,
    via: Container | Iterable[Container] | None = None,
    timeout: float = 1.0,
    within: float | None = None,
    family: int = 4,
) -> None:
    """One echo request from ``src`` reaches ``dst`` and its reply comes back to ``src``
    (over IPv6 with ``family=6``).

    With ``via``, the request passes those containers in that order, and the reply passes
    them in the reverse order (a symmetric route, as the seed's router gives). ``within``
    traces again until it holds or that many seconds have passed.

    Example:
        ```python
        assert_path(h1, h2, via=[router])  # the request through router, the reply back through it
        assert_path(h1, "internet")  # an upstream of the test, by name
        ```
    """
    __tracebackhide__ = True
    source = probe_source(src)
    routers = [via] if isinstance(via, Container) else list(via or ())
    for router in routers:
        need(router, Container, "each via")
    last: list[Trace] = []

    def check() -> None:
        __tracebackhide__ = True
        walked = trace(source.registry, source, dst, timeout=timeout, family=family)
        last[:] = [walked]
        problems = _path_problems(walked, routers)
        _observe_path(source, walked, routers, not problems)
        if problems:
            raise AssertionError("\n".join(problems) + "\n" + str(walked))

    try:
        until_holds(check, within)
    except AssertionError as exc:
        walked = last[-1] if last else None
        if walked is None or walked.reply_arrived or walked.address is None:
            raise
        why = dropped_by(source, walked.address, 1, timeout)
        recording.explain(str(why))
        raise AssertionError(f"{exc}\n{why}") from None


def _path_problems(walked: Trace, routers: list[Container]) -> list[str]:
    """What differs between a traced exchange and the path the test expects."""
    problems = []
    if not walked.request_arrived:
        problems.append(f"the request never reached {walked.target}: {walked.last_seen()}")
    elif not walked.reply_arrived:
        problems.append(f"the reply never came back to {walked.src}: {walked.last_seen()}")
    for kind, hops, arrived, order in (
        ("request", walked.request, walked.request_arrived, routers),
        ("reply", walked.reply, walked.reply_arrived, routers[::-1]),
    ):
        crossed = _passed(hops)
        if routers and arrived and not _in_order(order, crossed):
            problems.append(
                f"the {kind} passed {', '.join(c.alias for c in crossed)}; expected it to pass "
                f"{', '.join(c.alias for c in order)} in that order"
            )
    return problems


def _observe_path(src: Container, walked: Trace, routers: list[Container], ok: bool) -> None:
    """Record a traced path, each container's interfaces named by network."""
    if not recording.active():
        return
    local = {c: recording.interface_names(c) for c in _passed((*walked.request, *walked.reply))}

    def hop(h: Hop) -> str:
        return str(h) if h.where == "host" else recording.rename_interfaces(str(h), local[h.where])

    holder = None if walked.address is None else src.registry.holder_of(walked.address)
    edge = recording.Probe(
        recording.end(src, src.alias),
        recording.end(holder, str(walked.address or walked.target)),
        "assert_path",
        answered=walked.reply_arrived,
        expected=walked.reply_arrived == ok,
        detail=f"path: {walked.last_seen()}"
        if not ok
        else "path via " + (", ".join(c.alias for c in routers) or "no router"),
    )
    recording.observe(
        "assert_path",
        src.registry,
        f"{src.alias} -> {walked.target} via {[c.alias for c in routers]}",
        ok,
        {
            "request": [hop(h) for h in walked.request],
            "reply": [hop(h) for h in walked.reply],
            "request_arrived": walked.request_arrived,
            "reply_arrived": walked.reply_arrived,
        },
        probes=[edge],
    )
