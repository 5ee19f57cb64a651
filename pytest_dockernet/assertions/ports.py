"""Ports, not only ping: a TCP handshake or a UDP answer, from a container, an upstream or the
host, each failure naming what was met (a reset, an ICMP error, or silence and the rule that
dropped it).

ICMP passes where TCP is dropped (Docker 28 drops unpublished ports one by one; an
``--internal`` network answers ping and refuses the service), so a connectivity gate checks
the service's port.
"""

from __future__ import annotations

from ..model import Registry
from ..model.arguments import Destination
from ..observe.ports import CLOSED_AT_ONCE, NO_ANSWER, PAYLOAD, REFUSED, UNREACHABLE, PortResult
from ..probing.destinations import Target
from ..probing.diagnosis import Resent, lost_again
from ..probing.ports import HOST, Origin, Source, probe_port
from ..record import observations as recording
from ..retry import until_holds


def _registry(origin: Origin, target: Target) -> Registry | None:
    """The DockerNet a probe belongs to: its source's, or (from the host) its target's."""
    if origin.registry is not None:
        return origin.registry
    return target.holder.registry if target.holder is not None else None


def _observe(
    kind: str,
    origin: Origin,
    target: Target,
    port: int,
    proto: str,
    result: PortResult | None,
    ok: bool,
) -> None:
    registry = _registry(origin, target)
    if registry is None:
        return
    facts: dict[str, object] = (
        {"resolved": False} if result is None else {"outcome": result.outcome}
    )
    opened = result is not None and result.open
    edge = recording.Probe(
        recording.end(origin.container, HOST if origin.pid is None else origin.label),
        recording.end(target.holder, str(target.address or target.label)),
        kind,
        answered=opened,
        expected=(opened == ok),
        detail=f"{port}/{proto}: " + ("not resolved" if result is None else result.outcome),
    )
    recording.observe(
        kind, registry, f"{origin.label} -> {target.label} {port}/{proto}", ok, facts, None, [edge]
    )


def _why_silent(
    origin: Origin,
    target: Target,
    probe: tuple[Source, Destination, int, str, float, int],
) -> Resent | None:
    """The rule that dropped a probe (``src, dst, port, proto, timeout, family``) that met silence,
    found by sending it again (through the same churn guard as the probe: an answer from a
    gap in the rules proves nothing)."""
    src, dst, port, proto, timeout, family = probe
    registry = _registry(origin, target)
    address = target.address
    if registry is None or address is None:
        return None

    def resend() -> int:
        # TCP retransmits its SYN after 1 s: stay under it, so one probe is one packet.
        again, _, _ = probe_port(
            src, dst, port, proto=proto, timeout=min(timeout, 0.9), family=family
        )
        return int(again is None or again.outcome == NO_ANSWER)

    # A rule proves the drop only if it names this probe's bridges or address.
    ends = [c for c in (origin.container, target.holder) if c is not None]
    path = {str(address)} | {n.bridge for c in ends for n in c.networks}
    return lost_again(registry, resend, 1, path, address.version)


def assert_port_open(
    src: Source,
    dst: Destination,
    port: int,
    *,
    proto: str = "tcp",
    timeout: float = 1.0,
    within: float | None = None,
    payload: bytes = PAYLOAD,
    family: int = 4,
) -> PortResult:
    """``dst:port`` answers from ``src``: TCP's handshake completes (and the peer does not
    close at once, as docker-proxy does with nobody behind it); a UDP datagram (``payload``)
    gets an answer. Returns what was met, with the service's first bytes in ``.answer``.
    ``family=6`` probes over IPv6, as does an IPv6 address as ``dst`` (a listener of
    ``dockernet.listen`` serves both families in a container with an IPv6 address).

    Example:
        ```python
        dockernet.listen(web, 8080)  # a service of the plugin's own, nothing in the image
        result = assert_port_open(client, web, 8080)
        assert result.answer.startswith(b"pytest-dockernet web:8080/tcp")
        assert_port_open("host", web, 8080)  # the host is on every bridge
        assert_port_open(client, web, 8080, family=6)  # over IPv6
        ```
    """
    __tracebackhide__ = True
    seen: list[tuple[PortResult | None, Target, Origin]] = []

    def check() -> PortResult:
        __tracebackhide__ = True
        result, target, origin = probe_port(
            src, dst, port, proto=proto, timeout=timeout, payload=payload, family=family
        )
        seen.append((result, target, origin))
        ok = result is not None and result.open
        _observe("assert_port_open", origin, target, port, proto, result, ok)
        if result is None:
            raise AssertionError(f"{origin.label} cannot reach {target.label}")
        if not ok:
            raise AssertionError(
                f"{origin.label} cannot open {target.label} port {port}/{proto}: "
                f"{result.outcome}\n    {result}{_meaning(result)}"
            )
        return result

    try:
        return until_holds(check, within)
    except AssertionError as exc:
        result, target, origin = seen[-1]
        why = None
        if result is not None and result.outcome == NO_ANSWER:
            why = _why_silent(origin, target, (src, dst, port, proto, timeout, family))
        if why is not None:
            recording.explain(why.lines)  # the report draws the dropping rule on the edge
        raise AssertionError(f"{exc}\n{why.lines}" if why else str(exc)) from None


def assert_port_closed(
    src: Source,
    dst: Destination,
    port: int,
    *,
    proto: str = "tcp",
    timeout: float = 1.0,
    within: float | None = None,
    payload: bytes = PAYLOAD,
    family: int = 4,
) -> PortResult | None:
    """``dst:port`` does not answer from ``src`` (over IPv6 with ``family=6``).

    TCP: the handshake does not complete (a reset, an ICMP error, or silence all count).
    UDP: an ICMP error (port unreachable: nothing listens) proves it closed. Silence alone
    does not, since a service may ignore a datagram it does not understand: it counts only
    when the datagram, sent again, is counted by exactly one firewall DROP rule (filtered).
    Returns what was met (None when the name did not resolve).

    Example:
        ```python
        assert_port_closed(client, web, 8081)  # a reset: nothing listens there
        assert_port_closed(client, web, 53, proto="udp")  # ICMP port unreachable
        ```
    """
    __tracebackhide__ = True

    def check() -> PortResult | None:
        __tracebackhide__ = True
        result, target, origin = probe_port(
            src, dst, port, proto=proto, timeout=timeout, payload=payload, family=family
        )
        if result is None:
            _observe("assert_port_closed", origin, target, port, proto, result, True)
            return None
        problem = None
        if result.open:
            problem = (
                f"{origin.label} can open {target.label} port {port}/{proto}, expected it closed"
            )
        elif proto == "udp" and result.outcome == NO_ANSWER:
            why = _why_silent(origin, target, (src, dst, port, proto, timeout, family))
            if why is None or not why.dropped:
                problem = (
                    f"{origin.label} got no answer from {target.label} port {port}/udp: that "
                    "does not prove it closed (a service may stay silent to this datagram, "
                    "and no firewall rule counted it as dropped)"
                    + (f"\n{why.lines}" if why else "")
                )
        _observe("assert_port_closed", origin, target, port, proto, result, problem is None)
        if problem:
            raise AssertionError(f"{problem}:\n    {result}")
        return result

    return until_holds(check, within)


def _meaning(result: PortResult) -> str:
    """What an outcome says about the path, for a failure message."""
    meanings = {
        REFUSED: "the address answered, but nothing listens on that port",
        CLOSED_AT_ONCE: "something accepted the connection and dropped it at once",
        UNREACHABLE: "an ICMP error came back: a REJECT rule, or no route on the way",
        NO_ANSWER: "nothing came back: a DROP rule, or nobody at that address",
    }
    meaning = meanings.get(result.outcome)
    return f"\n    ({meaning})" if meaning else ""
