"""Name resolution as a container sees it: its own resolv.conf, its search list, and the server
it names (Docker's embedded DNS at 127.0.0.11 on user-defined networks), asked from inside its
namespace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype

from ..addressing import IPAddress
from ..engine.netns import udp_socket

EMBEDDED_DNS = "127.0.0.11"
NO_ANSWER = "no answer"


@dataclass(frozen=True)
class ResolvConf:
    """What a resolver reads from /etc/resolv.conf: servers, search list and ndots."""

    nameservers: tuple[str, ...] = (EMBEDDED_DNS,)
    search: tuple[str, ...] = ()
    ndots: int = 1


def parse_resolv_conf(text: str) -> ResolvConf:
    """``nameserver``, ``search``/``domain`` (the last one wins, as in glibc) and
    ``options ndots:N``; anything else is ignored."""
    servers: list[str] = []
    search: tuple[str, ...] = ()
    ndots = 1
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        key, values = words[0], words[1:]
        if key == "nameserver" and values:
            servers.append(values[0])
        elif key in ("search", "domain"):
            search = tuple(v.rstrip(".") for v in values)
        elif key == "options":
            for option in values:
                name, _, value = option.partition(":")
                if name == "ndots" and value.isdigit():
                    ndots = min(int(value), 15)  # glibc's cap
    return ResolvConf(tuple(servers) or (EMBEDDED_DNS,), search, ndots)


def search_order(name: str, conf: ResolvConf) -> tuple[str, ...]:
    """The names a resolver asks for, in order (glibc's ``res_search``): a name ending in a
    dot as it is; one with at least ``ndots`` dots as it is first, then with each search
    domain; a shorter one with each search domain first, then as it is."""
    if name.endswith("."):
        return (name.rstrip("."),)
    searched = tuple(f"{name}.{domain}" for domain in conf.search if domain)
    if name.count(".") >= conf.ndots:
        return (name, *searched)
    return (*searched, name)


def check_name(name: object, what: str = "name") -> str:
    """A host name a resolver can be asked for: a non-empty str, not only dots and spaces.

    >>> check_name("web")
    'web'
    """
    if not isinstance(name, str) or not name.strip(". "):
        raise ValueError(f"{what} must be a host name (a non-empty str), got {name!r}")
    return name


def read_resolv_conf(pid: int) -> ResolvConf:
    """The container's own /etc/resolv.conf, read through its root from the host."""
    try:
        with open(f"/proc/{pid}/root/etc/resolv.conf", encoding="utf-8") as conf:
            return parse_resolv_conf(conf.read())
    except FileNotFoundError:
        return ResolvConf()  # no file: a resolver's defaults (the embedded DNS here)


@dataclass(frozen=True)
class Query:
    """One question asked and what came back."""

    name: str
    outcome: str
    """The rcode ("NOERROR", "NXDOMAIN", "SERVFAIL", ...) or "no answer"."""
    addresses: tuple[IPAddress, ...] = ()
    waited: float | None = None
    """Seconds waited for an answer, when none came."""

    def __str__(self) -> str:
        found = ", ".join(map(str, self.addresses)) or "no address"
        outcome = self.outcome
        if outcome == NO_ANSWER and self.waited is not None:
            outcome = f"{NO_ANSWER} within {self.waited:g} s"
        return f"{self.name}: {outcome}, {found}"


@dataclass(frozen=True)
class Lookup:
    """A name resolved as the container's resolver would: each name of the search order asked
    in turn, until one gives an address."""

    name: str
    server: str
    queries: tuple[Query, ...]

    @property
    def addresses(self) -> tuple[IPAddress, ...]:
        return self.queries[-1].addresses if self.queries else ()

    @property
    def silent(self) -> bool:
        """No server gave an answer that means anything (only timeouts and SERVFAIL)."""
        return all(q.outcome in (NO_ANSWER, "SERVFAIL") for q in self.queries)

    def __str__(self) -> str:
        asked = "\n".join(f"    {q}" for q in self.queries)
        return f"{self.name!r} asked of {self.server}:\n{asked}"


_RECORDS = {4: dns.rdatatype.A, 6: dns.rdatatype.AAAA}


def ask(
    pid: int, name: str, server: str = EMBEDDED_DNS, timeout: float = 1.0, family: int = 4
) -> Query:
    """One A query (``family=6``: AAAA) for ``name`` to ``server`` from inside the namespace of
    ``pid``."""
    record = _RECORDS[family]
    query = dns.message.make_query(name, record)
    with udp_socket(pid) as sock:
        sock.setblocking(False)  # dnspython's timeout only works on a non-blocking socket
        try:
            answer = dns.query.udp(query, server, timeout=timeout, sock=sock)
        except dns.exception.Timeout:
            return Query(name, NO_ANSWER, waited=timeout)
    found = tuple(
        ipaddress.ip_address(item.address)
        for rrset in answer.answer
        if rrset.rdtype == record
        for item in rrset
    )
    return Query(name, dns.rcode.to_text(answer.rcode()), found)


def search(name: str, conf: ResolvConf, asking: Callable[[str], Query]) -> tuple[Query, ...]:
    """The questions glibc's ``res_search`` asks for ``name``, in :func:`search_order`, each
    put to ``asking``, until one gives an address.

    As in glibc, silence from the server ends the walk through the search list (NXDOMAIN, no
    A record and SERVFAIL go on to the next domain); the name itself, when not asked yet, is
    still asked last."""
    queries: list[Query] = []
    as_is = name.rstrip(".")
    stopped = False
    for candidate in search_order(name, conf):
        if stopped and candidate != as_is:
            continue  # glibc's "done": only the name as it is, when not asked yet, remains
        queries.append(asking(candidate))
        if queries[-1].addresses:
            break
        if queries[-1].outcome == NO_ANSWER and candidate != as_is:
            stopped = True
    return tuple(queries)


def lookup(
    pid: int, name: str, timeout: float = 1.0, conf: ResolvConf | None = None, family: int = 4
) -> Lookup:
    """Resolve ``name`` inside the namespace of ``pid`` exactly as its resolver would: its
    resolv.conf's first server, its search list and ndots (``conf``: that file as already read,
    by the guard that allowed the lookup); its IPv6 addresses (AAAA) with ``family=6``."""
    conf = read_resolv_conf(pid) if conf is None else conf
    server = conf.nameservers[0]
    queries = search(name, conf, lambda candidate: ask(pid, candidate, server, timeout, family))
    return Lookup(name, server, queries)


def resolve(
    pid: int, name: str, timeout: float = 2.0, conf: ResolvConf | None = None, family: int = 4
) -> tuple[IPAddress, ...]:
    """The addresses ``name`` resolves to inside the namespace of ``pid`` (``conf``: as in
    :func:`lookup`).

    Raises LookupError with what each query met when there is no address.
    """
    found = lookup(pid, name, timeout, conf, family)
    if not found.addresses:
        raise LookupError("; ".join(str(q) for q in found.queries))
    return found.addresses
