"""The path MTU from one container to another: the largest echo request that crosses with
don't-fragment set, found from the host side with nothing in the image.

Sizes are tried from the source's outgoing interface's MTU down: an answer raises the lower
bound; a refusal lowers the upper one, and a router's "fragmentation needed" (ICMPv6 "packet
too big") names the size to try next. A size that gets silence (a bridge drops a frame larger
than its port's MTU without a word) is tried once more before it counts as too big.

Example::

    found = path_mtu(h1, far)
    found.largest  # 1400
    print(found)   # every size tried, and what came back from where
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..addressing import IPAddress
from ..engine.netns import iproute
from ..model import Container, Upstream
from ..model.arguments import Destination, check_family, check_timeout, probe_source
from ..observe.ping import PingResult, ping
from .destinations import resolve
from .steady import steady

SMALLEST = {4: 68, 6: 1280}
"""The least MTU each family promises (RFC 791, RFC 8200): the search stops there."""


@dataclass(frozen=True)
class Attempt:
    """One size tried, and what came back."""

    size: int
    answered: bool
    said: str
    """``answered``, the ICMP error and who sent it, a refusal to send, or silence."""

    def __str__(self) -> str:
        return f"{self.size} bytes: {self.said}"


@dataclass(frozen=True)
class PathMtu:
    """What a path MTU search tried and found."""

    source: str
    label: str
    """The destination as messages name it."""
    largest: int | None
    """The largest size answered; None when even the smallest one was not."""
    attempts: tuple[Attempt, ...]

    def __str__(self) -> str:
        found = "nothing answered" if self.largest is None else f"{self.largest} bytes"
        lines = [f"path MTU from {self.source} to {self.label}: {found}; sizes tried:"]
        return "\n".join([*lines, *(f"  {a}" for a in self.attempts)])


def largest_passing(
    low: int, high: int, attempt: Callable[[int], tuple[bool, int | None]]
) -> int | None:
    """The largest size in ``[low, high]`` that ``attempt`` passes, assuming every smaller one
    passes too; None when ``low`` does not. ``attempt(size)`` returns (passed, a size the
    network named as the largest that fits, or None); ``high`` is tried first.

    >>> largest_passing(68, 1500, lambda size: (size <= 1400, 1400))
    1400
    """
    good: int | None = None
    bad = high + 1
    size = high
    named: set[int] = set()
    while True:
        passed, hint = attempt(size)
        if passed:
            good = size
        else:
            bad = size
        if hint is not None:
            named.add(hint)
        lower = low - 1 if good is None else good
        if bad == lower + 1:
            return good
        if passed and size in named:  # a router's MTU, answered: one byte more must fail
            size += 1
        elif hint is not None and lower < hint < bad:  # the size a router named
            size = hint
        else:
            size = (lower + bad + 1) // 2


def outgoing_mtu(pid: int, address: IPAddress) -> int:
    """The MTU of the interface that the namespace of ``pid`` sends ``address``'s packets out
    of, as its routing table chooses it."""
    with iproute(pid) as ipr:
        route = ipr.route("get", dst=str(address))[0]
        link = ipr.get_links(route.get_attr("RTA_OIF"))[0]
        mtu: int = link.get_attr("IFLA_MTU")
        return mtu


def path_mtu(
    src: Container | Upstream, dst: Destination, *, family: int = 4, timeout: float = 0.5
) -> PathMtu:
    """Search the largest echo request from ``src`` that ``dst`` answers with don't-fragment
    set (see the module's docstring); ``timeout`` is each try's wait for an answer.

    Example::

        path_mtu(h1, far).largest  # 1400: the router's far side has the smaller MTU
    """
    source = probe_source(src)
    check_timeout(timeout)
    target = resolve(source, dst, family=check_family(family))
    address = target.address
    if address is None:
        return PathMtu(source.alias, target.label, None, ())
    pid = source.pid
    tried: list[Attempt] = []

    def once(size: int) -> PingResult:
        return ping(
            pid, address, timeout=timeout, source=source.alias, size=size, dont_fragment=True
        )

    def attempt(size: int) -> tuple[bool, int | None]:
        # Silence (no answer, no router naming an MTU, no local refusal) may be a lost packet
        # rather than a size too big: a size is taken as silent only on a second try.
        for _ in range(2):
            result = steady(source, target, lambda: once(size), lambda r: r.received > 0)
            refused = any("send failed" in error for error in result.errors)
            if result.received or result.next_hop_mtu or refused:
                break
        said = "answered" if result.received else "; ".join(result.errors)
        tried.append(Attempt(size, bool(result.received), said))
        return bool(result.received), result.next_hop_mtu

    largest = largest_passing(SMALLEST[address.version], outgoing_mtu(pid, address), attempt)
    return PathMtu(source.alias, target.label, largest, tuple(tried))
