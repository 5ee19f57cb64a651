"""Names as a container resolves them: through its own resolv.conf and Docker's embedded DNS,
asked from inside its namespace, so a DNS regression fails as a DNS assertion and not as an
unclear ping (moby/moby#51614 broke the embedded resolver between containers in 29.1.0).

The plugin's containers send names Docker does not know to loopback (``DNS_SINK``), so no
query ever leaves the machine: such a name gets no answer, or an error, never an address. A
container the plugin did not create (``existing_container``, a Compose project) may forward
them to servers off this machine: every query is first put to the guard of
:mod:`pytest_dockernet.observe.forwarding`, which refuses with a ValueError before anything is
sent, unless the test passes ``may_forward=True``.
"""

from __future__ import annotations

import ipaddress

from .. import addressing
from ..model import Container, Network, Upstream
from ..model.arguments import check_family, check_timeout
from ..observe import forwarding
from ..observe.names import Lookup, ResolvConf, check_name, lookup
from ..record import observations as recording
from ..retry import until_holds


def _source(src: object) -> Container:
    if isinstance(src, Upstream):
        raise TypeError(f"src {src} is an upstream: it has no Docker DNS to ask; pass a Container")
    if not isinstance(src, Container):
        raise TypeError(f"src must be a Container, got {type(src).__name__}: {src!r}")
    return src


def _may_forward(value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"may_forward must be True or False, got {value!r}")
    return value


def _allowed(source: Container, name: str, may_forward: bool) -> ResolvConf | None:
    """The resolv.conf to ask ``name`` with, once the guard found that nothing can leave this
    machine (None with ``may_forward``: not checked, the lookup reads the file itself)."""
    if may_forward:
        return None
    return forwarding.guard(
        source.registry.client,
        source.id,
        source.pid,
        name,
        source.registry.holder_of,
        who=str(source),
    )


def _expected(to: object, family: int) -> tuple[set[addressing.IPAddress], str] | None:
    """The addresses ``to=`` accepts (a container's of ``family``), and how a message names
    them."""
    if to is None:
        return None
    if isinstance(to, Container):
        to.wait_started()
        held: dict[Network, addressing.IPAddress] = {
            **(to.addresses if family == 4 else to.addresses6)
        }
        shown = ", ".join(f"{n.alias}={ip}" for n, ip in held.items()) or "none"
        kind = "an address" if family == 4 else "an IPv6 address"
        return set(held.values()), f"{kind} of {to} ({shown})"
    if isinstance(to, (str, ipaddress.IPv4Address, ipaddress.IPv6Address)):
        address = addressing.parse_any_address(to, "to")
        return {address}, str(address)
    raise TypeError(f"to must be a Container, an address or None, got {to!r}")


def _family(to: object, family: object) -> int:
    """``family=``, or the family of ``to`` when it is an address (a ValueError for an IPv4
    address with ``family=6``)."""
    wanted = check_family(family)
    if isinstance(to, ipaddress.IPv6Address) or (isinstance(to, str) and ":" in to):
        return 6
    four = isinstance(to, ipaddress.IPv4Address) or (isinstance(to, str) and "." in to)
    if four and wanted == 6:
        raise ValueError(f"to={to!r} is an IPv4 address, and family=6 was asked: drop one")
    return wanted


def _observe(
    kind: str, src: Container, name: str, found: Lookup, ok: bool, family: int = 4
) -> None:
    record = "" if family == 4 else " (AAAA)"
    recording.observe(
        kind,
        src.registry,
        f"{src.alias} resolves {name}{record}",
        ok,
        {"addresses": sorted(map(str, found.addresses))},
        {"queries": [f"{q.name}: {q.outcome}" for q in found.queries]},
    )


def assert_resolves(
    src: Container,
    name: str,
    to: Container | str | ipaddress.IPv4Address | ipaddress.IPv6Address | None = None,
    *,
    timeout: float = 1.0,
    within: float | None = None,
    may_forward: bool = False,
    family: int = 4,
) -> tuple[addressing.IPAddress, ...]:
    """``name`` resolves inside ``src`` as its resolver would (aliases, Docker names and
    ``name.network`` included); with ``to``, to one of that container's addresses, or to that
    address. Returns the addresses found. ``family=6`` asks for its IPv6 addresses (AAAA), as
    does an IPv6 address as ``to``.

    When ``src`` could forward the query off this machine (a container the plugin did not
    create, whose DNS servers are outside it) and the first name asked is not one Docker
    answers itself, a ValueError says so before anything is sent; ``may_forward=True`` asks
    anyway, through the container's real DNS servers.

    Example:
        ```python
        api = dockernet.container("api", [front, back])
        web = dockernet.container("web", [front])
        assert_resolves(web, "api", to=api)  # its address on front, the network they share
        assert_resolves(web, f"api.{front.name}")  # name.<Docker's network name>
        assert_resolves(web, "api", to=api, family=6)  # AAAA, on networks with ipv6=True
        ```
    """
    __tracebackhide__ = True
    source = _source(src)
    wanted = check_name(name)
    version = _family(to, family)
    expected = _expected(to, version)
    check_timeout(timeout)
    forward = _may_forward(may_forward)
    missing = "does not resolve" if version == 4 else "has no IPv6 address (AAAA)"

    def check() -> tuple[addressing.IPAddress, ...]:
        __tracebackhide__ = True
        allowed = _allowed(source, wanted, forward)
        found = lookup(source.pid, wanted, timeout, allowed, version)
        matched = bool(found.addresses) and (
            expected is None or bool(expected[0] & set(found.addresses))
        )
        _observe("assert_resolves", source, wanted, found, matched, version)
        if not found.addresses:
            raise AssertionError(f"{wanted!r} {missing} in {source}:\n{found}")
        if not matched and expected is not None:
            raise AssertionError(
                f"{wanted!r} resolves in {source} to "
                f"{', '.join(map(str, found.addresses))}, expected {expected[1]}:\n{found}"
            )
        return found.addresses

    return until_holds(check, within)


def assert_not_resolvable(
    src: Container,
    name: str,
    *,
    timeout: float = 1.0,
    within: float | None = None,
    may_forward: bool = False,
    family: int = 4,
) -> Lookup:
    """``name`` gives no address inside ``src``: NXDOMAIN, no A record, SERVFAIL or no answer
    (``family=6``: no AAAA record, as for a container on no network with IPv6).

    Silence and SERVFAIL are also what a dead resolver gives, so then ``src``'s own name is
    asked too: when that gets no answer either, the embedded DNS is down and the verdict
    would mean nothing, which fails the assertion. Returns what each query met.

    A name Docker does not know is forwarded to ``src``'s DNS servers: when one of them is off
    this machine (a container the plugin did not create), a ValueError says so before anything
    is sent; ``may_forward=True`` asks anyway, through those servers.

    Example:
        ```python
        db = dockernet.container("db", [back])
        web = dockernet.container("web", [front])
        assert_not_resolvable(web, "db")  # no shared network: Docker does not know it there
        ```
    """
    __tracebackhide__ = True
    source = _source(src)
    wanted = check_name(name)
    check_timeout(timeout)
    forward = _may_forward(may_forward)
    version = check_family(family)

    def check() -> Lookup:
        __tracebackhide__ = True
        found = lookup(source.pid, wanted, timeout, _allowed(source, wanted, forward), version)
        _observe("assert_not_resolvable", source, wanted, found, not found.addresses, version)
        if found.addresses:
            raise AssertionError(
                f"{wanted!r} resolves in {source} to "
                f"{', '.join(map(str, found.addresses))}, expected no address:\n{found}"
            )
        if found.silent:
            itself = lookup(
                source.pid, source.alias, timeout, _allowed(source, source.alias, forward)
            )
            if not itself.addresses:
                raise AssertionError(
                    f"{wanted!r} got no address in {source}, but that proves nothing: the "
                    f"resolver does not answer for {source.alias!r} itself either, so it is "
                    f"down:\n{found}\n{itself}"
                )
        return found

    return until_holds(check, within)
